"""Assessment truth: scorecards and boot storms judged from a real run on the lab.

One lab, one suite run (as a user runs it) over two classes: one limited to 800 IOPS
that offers no RWX, one whose clones return zeroes. The scorecard must call the
limited class unfit for a workload needing 5,000 IOPS at its fail threshold and fit
for one needing 500, and unfit for oltp-database because of migration.live; the
lying class's boot storm must be broken while the honest one's is supported.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from suite.report.scorecard import add_scorecard
from suite.workloads.loading import parse_workload
from tests.e2e.conftest import PROFILE, run_suite

LIMIT_IOPS = 800
DRIVERS = [
    {"name": "e2e-800", "provisioner": "limited.csi.e2e.io", "volumeBindingMode": "Immediate",
     "modes": {"Block": ["ReadWriteOnce"]}, "expansion": "none", "snapshots": False,
     "clone": "copy", "encryption": "none", "limits": {"iops": LIMIT_IOPS}, "faults": []},
    {"name": "e2e-zeroes", "provisioner": "zeroes.csi.e2e.io",
     "volumeBindingMode": "Immediate", "modes": {"Filesystem": ["ReadWriteOnce"]},
     "expansion": "none", "snapshots": False, "clone": "csi-clone", "encryption": "none",
     "faults": ["clone-returns-zeroes"]},
]


def assessment_profile(folder: Path) -> Path:
    profile = yaml.safe_load(PROFILE.read_text())
    profile.update(name="assessment-truth",
                   families=["provision", "migration", "perf", "bootstorm"],
                   scale={"bootstorm_vms": 3, "bootstorm_image": "8Mi"})
    profile["fio"] = {"repeats": 1, "sizeMiB": 16, "jobs": [
        {"name": "qd16-randread", "rw": "randread", "bs": "4k", "iodepth": 16,
         "runtime_s": 3}]}
    path = folder / "assessment-truth.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


def iops_workload(name: str, warn: float, fail: float) -> Any:
    return parse_workload({"name": name, "figures": [
        {"label": "4k random read IOPS", "source": "fio", "job": {"rw": "randread", "bs": "4k"},
         "metric": "iops", "direction": "higher", "warn": warn, "fail": fail,
         "unit": "IOPS"}]}, f"{name}.yaml")


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from tests.e2e.conftest import start_lab

    folder = tmp_path_factory.mktemp("assessment-truth")
    lab = start_lab(folder, DRIVERS)
    try:
        result = run_suite(lab.kubeconfig, folder / "reports", "--profile",
                           str(assessment_profile(folder)), "-k",
                           "perf.fio or migration.live or scale.bootstorm")
    finally:
        lab.stop()
    assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr[-2000:]
    assert "workload scorecard:" in result.stdout
    return result.matrix()


def classes(matrix: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {sc["name"]: sc for sc in matrix["storageClasses"]}


def test_iops_limit_decides_fit_and_unfit(matrix: dict[str, Any]) -> None:
    judged = copy.deepcopy(matrix)
    add_scorecard(judged, [iops_workload("needs-5000", 8000, 5000),
                           iops_workload("needs-500", 500, 300)])
    limited = classes(judged)["e2e-800"]["workloads"]
    unfit, fit = limited["needs-5000"], limited["needs-500"]
    assert unfit["fitness"] == "unfit", unfit
    assert unfit["decidedBy"]["fail"] == 5000
    assert abs(unfit["decidedBy"]["value"] - LIMIT_IOPS) <= 0.15 * LIMIT_IOPS, unfit
    assert "< fail 5,000" in unfit["reason"]
    assert fit["fitness"] == "fit", fit


def test_no_rwx_is_unfit_for_oltp_because_of_live_migration(matrix: dict[str, Any]) -> None:
    limited = classes(matrix)["e2e-800"]
    assert limited["capabilities"]["migration.live"]["verdict"] == "unsupported"
    oltp = limited["workloads"]["oltp-database"]
    assert oltp["fitness"] == "unfit"
    assert oltp["decidedBy"]["capability"] == "migration.live"
    assert oltp["reason"] == "needs migration.live, which is unsupported"
    # nothing ran the OLTP mix: its figures are not assessed, never counted as fit
    assert {f["fitness"] for f in oltp["figures"]} == {"not-assessed"}
    assert matrix["workloads"]["schema"] == "kubevirt-storage-workloads/v1"


def test_a_clone_fault_makes_the_boot_storm_broken(matrix: dict[str, Any]) -> None:
    lying = classes(matrix)["e2e-zeroes"]["capabilities"]["scale.bootstorm"]
    assert lying["verdict"] == "broken", lying["reason"]
    assert "3 of 3 clones hold zeroes" in lying["reason"]
    honest = classes(matrix)["e2e-800"]["capabilities"]["scale.bootstorm"]
    assert honest["verdict"] == "supported", honest["reason"]
    assert honest["evidence"]["vms"] == 3
    assert honest["evidence"]["cloneStrategies"] == {"copy": 3}
    assert honest["evidence"]["loginSeconds"]["p95"] > 0


@pytest.mark.slow
def test_default_lab_boot_storm_is_slower_on_the_throttled_class(tmp_path: Path) -> None:
    """The built-in drivers: lab-slow (40 MiB/s) against lab-ceph-rbd (unlimited)."""
    profile = yaml.safe_load(PROFILE.read_text())
    profile.update(name="bootstorm-default", families=["provision", "bootstorm"],
                   scale={"bootstorm_vms": 5, "bootstorm_image": "64Mi"})
    profile["sizes"] = {"disk": "128Mi", "expanded_disk": "160Mi", "perf_disk": "64Mi"}
    path = tmp_path / "bootstorm.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    from suite.lab.drivers import DEFAULT_DRIVERS_YAML
    from tests.e2e.conftest import start_lab

    drivers = [d for d in yaml.safe_load(DEFAULT_DRIVERS_YAML)["drivers"]
               if d["name"] in ("lab-slow", "lab-ceph-rbd")]
    lab = start_lab(tmp_path, drivers)
    try:
        result = run_suite(lab.kubeconfig, tmp_path / "reports", "--profile", str(path),
                           "-k", "scale.bootstorm")
    finally:
        lab.stop()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    found = {sc["name"]: sc["capabilities"]["scale.bootstorm"]
             for sc in result.matrix()["storageClasses"]}
    slow, fast = found["lab-slow"], found["lab-ceph-rbd"]
    assert slow["verdict"] == fast["verdict"] == "supported", (slow["reason"], fast["reason"])
    assert slow["evidence"]["readySeconds"]["p95"] > fast["evidence"]["readySeconds"]["p95"], (
        slow["evidence"]["readySeconds"], fast["evidence"]["readySeconds"])
