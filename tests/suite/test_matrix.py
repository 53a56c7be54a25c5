"""The matrix model: schema, declared-vs-observed, and the frames the writers use."""

from __future__ import annotations

import copy

import pytest

from suite.checks.base import CAPABILITIES, Outcome
from suite.report.declared import declared, describe
from suite.report.matrix import cells_frame, verdict_grid
from suite.report.schema import MatrixSchemaError, validate_matrix
from tests.suite.sample import NFS_FACTS, RBD_FACTS, sample_matrix


def test_matrix_follows_the_published_shape() -> None:
    matrix = sample_matrix()
    validate_matrix(matrix)
    assert matrix["schema"] == "kubevirt-storage-matrix/v1"
    rbd = matrix["storageClasses"][0]
    assert list(rbd["capabilities"]) == list(CAPABILITIES)
    cell = rbd["capabilities"]["snapshot.volume"]
    assert cell["verdict"] == "broken" and cell["declared"] is True
    assert cell["evidence"] == {"pvc": "pvc-6"} and cell["seconds"] == 6.25
    assert rbd["performance"]["fio"][0]["latencyUs"]["p99"] == 1500.0


@pytest.mark.parametrize(("path", "value", "where"), [
    (("storageClasses", 0, "capabilities", "clone.volume", "verdict"), "works", "verdict"),
    (("run", "cluster", "server"), 5, "server"),
    (("schema",), "v2", "schema"),
    (("storageClasses", 0, "capabilities", "clone.volume", "reason"), "", "reason"),
])
def test_schema_rejects_violations(path: tuple, value: object, where: str) -> None:
    matrix = copy.deepcopy(sample_matrix())
    target = matrix
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(MatrixSchemaError, match=where):
        validate_matrix(matrix)


@pytest.mark.parametrize(("cap", "facts", "expected"), [
    ("provision.block.rwx", RBD_FACTS, True),
    ("provision.filesystem.rwx", RBD_FACTS, False),
    ("provision.block.rwo", NFS_FACTS, None),  # no StorageProfile: silent
    ("expand.online", RBD_FACTS, None),  # allowVolumeExpansion cannot say "online"
    ("expand.online", NFS_FACTS, False),
    ("expand.offline", NFS_FACTS, False),
    ("snapshot.vm", NFS_FACTS, False),
    ("migration.live", RBD_FACTS, True),
    ("migration.live", NFS_FACTS, None),
    ("encryption.at-rest", RBD_FACTS, True),
    ("encryption.at-rest", NFS_FACTS, False),
    ("clone.volume", NFS_FACTS, True),
    ("perf.fio", RBD_FACTS, None),
])
def test_declared_comes_from_discovery_facts(cap: str, facts: dict, expected: object) -> None:
    assert declared(cap, facts) is expected


def test_declared_beside_observed_wording() -> None:
    assert describe(True, "supported") == "declared, works"
    assert describe(True, "broken") == "declared, broken"
    assert describe(False, "supported") == "undeclared, works"


def test_frames_have_one_row_per_cell_in_order() -> None:
    frame = cells_frame(sample_matrix())
    assert len(frame) == 2 * len(CAPABILITIES)
    assert list(frame["storageClass"].unique()) == ["rbd", "nfs"]
    grid = verdict_grid(sample_matrix())
    assert list(grid.columns) == ["rbd", "nfs"]
    assert grid.loc["snapshot.volume", "rbd"] == "broken"
    assert grid.loc["clone.volume", "nfs"] == "skipped"


def test_outcome_rejects_unknown_verdicts_and_flattens_reasons() -> None:
    with pytest.raises(ValueError, match="unknown verdict"):
        Outcome("clone.volume", "ok", "x")  # type: ignore[arg-type]
    assert Outcome("clone.volume", "supported", "two\nlines").reason == "two lines"
