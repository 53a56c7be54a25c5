"""The suite's verdicts equal what the lab's driver file implies, cell by cell.

Each run puts several classes in one lab (they are assessed concurrently), so one run
covers a variety of fault-free classes or several faults, each on its own class: a
fault must turn exactly its cells broken and leave every other cell as specified.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import labelled_leftovers, run_suite
from tests.e2e.truth import expected_cells


def driver(name: str, **spec: Any) -> dict[str, Any]:
    base = {"name": name, "provisioner": f"{name}.csi.e2e.io", "volumeBindingMode": "Immediate",
            "modes": {"Filesystem": ["ReadWriteOnce"]}, "expansion": "none",
            "snapshots": False, "clone": "copy", "encryption": "none", "faults": []}
    return {**base, **spec}


RWX_BLOCK = {"Block": ["ReadWriteOnce", "ReadWriteMany"], "Filesystem": ["ReadWriteOnce"]}

# Healthy classes carrying every kind of `noise` between them (docs/lab-drivers.md, "Noise"): noise
# never changes a verdict. Beside them, classes that cannot hold a VM disk.
VARIETY = [
    driver("e2e-rbd", modes=RWX_BLOCK, expansion="online", snapshots=True, clone="csi-clone",
           encryption="luks", defaultVirt=True,
           noise=["provision-retry", "resize-retry", "snapshot-slow"]),
    driver("e2e-nfs", modes={"Filesystem": ["ReadWriteOnce", "ReadWriteMany"]},
           expansion="offline", default=True, noise=["schedule-backoff", "attach-slow"]),
    driver("e2e-local", volumeBindingMode="WaitForFirstConsumer", clone="snapshot",
           noise=["import-retry"]),
    driver("e2e-block", modes={"Block": ["ReadWriteOnce"]}, expansion="online",
           snapshots=True, clone="snapshot", limits={"iops": 2000, "bandwidthMiBs": 100},
           noise=["capacity-rounds-up", "resize-retry"]),
]
UNFIT = [
    driver("e2e-static", type="no-provisioner", provisioner="kubernetes.io/no-provisioner",
           volumeBindingMode="WaitForFirstConsumer"),
    driver("e2e-buckets", type="object-bucket", provisioner="openshift-storage.noobaa.io/obc"),
]
UNFIT_WITHIN_S = 10.0
EXPAND_S = 30.0  # tests/e2e/profile.yaml: expand_s (expand_grace_s is 10)
# The first round's fault files, with noise added: faults still show, noise does not.
FAULTS_DATA = [
    driver("e2e-stale", modes=RWX_BLOCK, expansion="online", snapshots=True,
           clone="csi-clone", faults=["snapshot-restores-stale-data"],
           noise=["snapshot-slow", "provision-retry"]),
    driver("e2e-zeroes", expansion="offline", snapshots=True, clone="snapshot",
           faults=["clone-returns-zeroes"], noise=["import-retry"]),
    driver("e2e-invisible", modes={"Block": ["ReadWriteOnce"]}, expansion="online",
           faults=["online-expansion-invisible-to-guest"],
           noise=["resize-retry", "capacity-rounds-up"]),
]
FAULTS_PLATFORM = [
    driver("e2e-nomigrate", modes=RWX_BLOCK, snapshots=True, faults=["migration-fails"],
           noise=["schedule-backoff"]),
    driver("e2e-plaintext", encryption="luks", expansion="online",
           faults=["encryption-not-applied"], noise=["attach-slow"]),
    driver("e2e-hangs", modes=RWX_BLOCK, expansion="offline", snapshots=True,
           encryption="luks", faults=["provisioning-hangs"]),
]


def mismatches(actual: dict[str, dict[str, str]], drivers: list[dict[str, Any]]) -> list[str]:
    problems = []
    for entry in drivers:
        got = actual.get(entry["name"], {})
        for cap, want in expected_cells(entry).items():
            if got.get(cap) != want:
                problems.append(f"{entry['name']} {cap}: expected {want}, got {got.get(cap)}")
    return problems


def assert_matrix_matches(result: Any, drivers: list[dict[str, Any]]) -> dict[str, Any]:
    """The run's matrix has one entry per driver and every cell as the driver file implies
    (a mismatch is listed with the suite's reason for it); returns the matrix."""
    matrix: dict[str, Any] = result.matrix()
    assert [sc["name"] for sc in matrix["storageClasses"]] == sorted(d["name"] for d in drivers)
    problems = mismatches(result.verdicts(), drivers)
    reasons = {f"{sc['name']} {cap}": cell["reason"] for sc in matrix["storageClasses"]
               for cap, cell in sc["capabilities"].items()}
    detail = [f"{p}  ({reasons.get(p.split(':')[0])})" for p in problems]
    assert not problems, "verdicts differ from the driver file:\n" + "\n".join(detail)
    return matrix


@pytest.mark.slow
@pytest.mark.parametrize("drivers", [VARIETY + UNFIT, FAULTS_DATA, FAULTS_PLATFORM],
                         ids=["variety-noisy", "data-faults", "platform-faults"])
def test_matrix_equals_the_driver_file(lab_process: Any, tmp_path: Path,
                                       drivers: list[dict[str, Any]]) -> None:
    lab = lab_process(drivers)
    result = run_suite(lab.kubeconfig, tmp_path / "reports", "--junitxml",
                       str(tmp_path / "junit.xml"))
    matrix = assert_matrix_matches(result, drivers)
    assert labelled_leftovers(lab.kubeconfig) == []
    assert junit_results(tmp_path / "junit.xml") == expected_junit(result.verdicts())
    if any(d["name"] == "e2e-invisible" for d in drivers):  # judged after the grace
        cell = next(sc for sc in matrix["storageClasses"]
                    if sc["name"] == "e2e-invisible")["capabilities"]["expand.online"]
        assert "PVC and VMI report" in cell["reason"] and cell["seconds"] < EXPAND_S, cell
    unfit = [d["name"] for d in drivers if d.get("type", "csi") != "csi"]
    if unfit:  # decided at once, not after a bind timeout, and the summary says why
        seconds = result.timings()["classSeconds"]
        assert all(seconds[name] < UNFIT_WITHIN_S for name in unfit), seconds
        assert "cannot hold VM disks" in result.stdout
        for entry in (d for d in drivers if d["name"] in unfit):
            cells = next(sc for sc in matrix["storageClasses"]
                         if sc["name"] == entry["name"])["capabilities"]
            assert all("not a StorageClass for VM disks" in cells[cap]["reason"]
                       for cap in expected_cells(entry)), cells


JUNIT_RESULT = {"broken": "failure", "skipped": "skipped", "inconclusive": "error"}


def junit_results(path: Path) -> dict[str, tuple[str, str]]:
    """test id -> (verdict property, result element or "passed")."""
    results = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        child = next((c.tag for c in case if c.tag in ("failure", "error", "skipped")),
                     "passed")
        results[case.get("name", "")] = (props.get("verdict", ""), child)
    return results


def expected_junit(verdicts: dict[str, dict[str, str]]) -> dict[str, tuple[str, str]]:
    return {f"test_capability[{sc}-{cap}]": (v, JUNIT_RESULT.get(v, "passed"))
            for sc, cells in verdicts.items() for cap, v in cells.items()}
