"""The VM-feature cells (hotplug, export, persistent state, storage migration) equal the
driver file's truth.

One lab with a fault-free class, a WaitForFirstConsumer class and one class per new
fault; a second small lab without the feature gates: every cell of the families run
equals tests/e2e/truth.py, each fault turns only its own cell broken.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from suite.checks.base import FAMILY_CAPABILITIES
from tests.e2e.conftest import PROFILE, labelled_leftovers, run_suite
from tests.e2e.test_truth import driver
from tests.e2e.truth import expected_cells, vm_feature_cells

FAMILIES = ["provision", "hotplug", "export", "state", "storage_migration"]

MIXED = [
    driver("e2e-feat-rbd", modes={"Block": ["ReadWriteOnce", "ReadWriteMany"]},
           expansion="online", snapshots=True, noise=["attach-slow"], defaultVirt=True),
    driver("e2e-feat-local", volumeBindingMode="WaitForFirstConsumer"),
    driver("e2e-feat-hidden", modes={"Block": ["ReadWriteOnce"]},
           faults=["hotplug-disk-invisible"]),
    driver("e2e-feat-stale", faults=["export-serves-stale-data"]),
]
NO_GATES = {"featureGates": ["Snapshot", "ExpandDisks"]}


def _profile(folder: Path) -> Path:
    profile = yaml.safe_load(PROFILE.read_text())
    profile["families"] = FAMILIES
    path = folder / "features.yaml"
    path.write_text(yaml.safe_dump(profile))
    return path


def _wanted(entry: dict[str, Any], cluster: dict[str, Any] | None) -> dict[str, str]:
    cells = {c: v for c, v in expected_cells(entry, cluster).items()
             if c.startswith("provision.")}
    ran = {cap for family in FAMILIES for cap in FAMILY_CAPABILITIES[family]}
    features = {c: v for c, v in vm_feature_cells(entry, cluster).items() if c in ran}
    return {**cells, **features}


@pytest.mark.slow
@pytest.mark.parametrize("drivers,cluster", [
    (MIXED, None), pytest.param(MIXED[:1], NO_GATES, marks=pytest.mark.extended)],
    ids=["mixed-faults", "gates-off"])
def test_vm_feature_cells_equal_the_driver_file(lab_process: Any, tmp_path: Path,
                                                drivers: list[dict[str, Any]],
                                                cluster: dict[str, Any] | None) -> None:
    lab = lab_process(drivers, cluster)
    result = run_suite(lab.kubeconfig, tmp_path / "reports", "--profile",
                       str(_profile(tmp_path)))
    got = result.verdicts()
    reasons = {(sc["name"], cap): cell["reason"] for sc in result.matrix()["storageClasses"]
               for cap, cell in sc["capabilities"].items()}
    problems = []
    for entry in drivers:
        cells = got.get(entry["name"], {})
        for cap, want in _wanted(entry, cluster).items():
            if cells.get(cap) != want:
                problems.append(f"{entry['name']} {cap}: expected {want}, got "
                                f"{cells.get(cap)} ({reasons.get((entry['name'], cap))})")
    assert not problems, "\n".join(problems) + "\n" + result.stdout[-3000:]
    if cluster is not None:  # the reason names the gate
        assert "HotplugVolumes" in reasons[(drivers[0]["name"], "hotplug.volume")]
        assert "VMExport" in reasons[(drivers[0]["name"], "export.vm")]
        assert "VMPersistentState" in reasons[(drivers[0]["name"], "state.persistent")]
    assert labelled_leftovers(lab.kubeconfig) == []
