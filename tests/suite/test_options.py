"""Options become a RunConfig once; user mistakes are one-line ConfigErrors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from suite.config.errors import ConfigError
from suite.config.options import add_options, run_id_type
from suite.config.run import build_run_config, new_run_id, select_classes


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_options(parser.add_argument)  # the same definitions the plugin uses
    return parser.parse_args(list(argv))


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kc"))
    run = build_run_config(parse())
    assert run.lab is False
    assert run.kubeconfig == str(tmp_path / "kc")
    assert run.profile.name == "quick"
    assert run.report_dir == Path("reports")
    assert run.storage_classes == ()
    assert run.run_id.startswith("kvs-")


def test_lab_drivers_implies_lab(tmp_path: Path) -> None:
    drivers = tmp_path / "d.yaml"
    drivers.write_text("drivers: []\n")
    run = build_run_config(parse("--lab-drivers", str(drivers), "--storage-class", "a*",
                                 "--storage-class", "b", "--keep", "--run-id", "nightly-1"))
    assert run.lab and run.lab_drivers == drivers and run.kubeconfig is None
    assert run.storage_classes == ("a*", "b")
    assert run.keep and run.run_id == "nightly-1"


@pytest.mark.parametrize(("argv", "message"), [
    (["--lab", "--kubeconfig", "x"], "--lab starts its own cluster"),
    (["--lab-drivers", "/nonexistent/d.yaml"], "--lab-drivers: file /nonexistent/d.yaml"),
    (["--profile", "nope"], "profile 'nope' not found"),
])
def test_bad_combinations(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_run_config(parse(*argv))


@pytest.mark.parametrize("value", ["Upper", "-lead", "trail-", "a_b", "x" * 41, ""])
def test_run_id_must_be_a_short_dns_label(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        run_id_type(value)


def test_generated_run_ids_are_valid_and_unique() -> None:
    ids = {new_run_id() for _ in range(20)}
    assert len(ids) == 20
    assert all(run_id_type(i) == i for i in ids)


def test_select_classes_globs_keep_cluster_order() -> None:
    available = ["lab-ceph-rbd", "lab-local", "lab-nfs", "gold"]
    assert select_classes(available, ()) == available
    assert select_classes(available, ("lab-n*", "gold", "lab-*")) == available
    assert select_classes(available, ("lab-l?cal",)) == ["lab-local"]


def test_unknown_class_names_the_existing_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        select_classes(["a", "b"], ("gold",))
    assert str(caught.value) == "StorageClass 'gold' not found; the cluster has: a, b"


def test_lab_runs_allow_node_checks_and_real_clusters_opt_in() -> None:
    assert build_run_config(parse("--lab")).profile.node_checks.privileged_pods is True
    assert build_run_config(parse("--kubeconfig", "k")).profile.node_checks.privileged_pods \
        is False
