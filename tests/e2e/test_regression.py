"""Nightly regression gate, end to end: a class whose IOPS limit is halved regresses.

Two runs of two lab classes throttled to the same IOPS limit fill the history; then the
lab comes back with one class's limit halved and a fault that makes the other class's
snapshot restores stale. Compared with the latest stored run, the halved class's IOPS
metrics are ``regressed``, the other class's metrics never are, its ``snapshot.volume``
going from supported to broken is a regression, ``--fail-on regression`` fails the run
and JUnit names every regression as a test case of its own.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import PROFILE, run_suite, start_lab

pytestmark = [pytest.mark.extended, pytest.mark.slow]

LIMIT_IOPS = 400
HALVED, STEADY = "e2e-halved", "e2e-steady"


def profile(folder: Path) -> Path:
    data = yaml.safe_load(PROFILE.read_text())
    data["name"] = "regression"
    data["families"] = ["provision", "snapshot", "perf"]
    data["fio"] = {"repeats": 4, "sizeMiB": 16, "jobs": [
        {"name": "qd1-randread", "rw": "randread", "bs": "4k", "iodepth": 1, "runtime_s": 1},
        {"name": "qd8-randwrite", "rw": "randwrite", "bs": "4k", "iodepth": 8,
         "runtime_s": 1}]}
    data["regression"] = {"significance": 0.05, "min_samples": 4, "max_spread": 0.25,
                          "iops": 0.1, "bandwidth": 0.1, "latency": 0.2,
                          "tail_latency": 0.5}
    path = folder / "regression.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def driver(name: str, iops: int, faults: list[str]) -> dict[str, Any]:
    return {"name": name, "provisioner": f"{name}.csi.e2e.io", "volumeBindingMode": "Immediate",
            "modes": {"Block": ["ReadWriteOnce"]}, "expansion": "none",
            "snapshots": name == STEADY, "clone": "copy", "encryption": "none",
            "limits": {"iops": iops}, "faults": faults}


def run(tmp: Path, lab_name: str, drivers: list[dict[str, Any]], run_id: str,
        *extra: str) -> Any:
    lab = start_lab(_folder(tmp / lab_name), drivers)
    try:
        return run_suite(lab.kubeconfig, tmp / "reports", "--profile", str(profile(tmp)),
                         "--history", str(tmp / "history.sqlite"), "--run-id", run_id, *extra)
    finally:
        lab.stop()


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_halved_iops_and_stale_snapshots_are_regressions(tmp_path: Path) -> None:
    steady = [driver(HALVED, LIMIT_IOPS, []), driver(STEADY, LIMIT_IOPS, [])]
    for run_id in ("night-1", "night-2"):
        done = run(tmp_path, run_id, steady, run_id, "--baseline", "latest")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    first = json.loads((tmp_path / "reports" / "night-2" / "comparison.json").read_text())
    assert not [m for m in first["metrics"] if m["decision"] == "regressed"], first

    changed = [driver(HALVED, LIMIT_IOPS // 2, []),
               driver(STEADY, LIMIT_IOPS, ["snapshot-restores-stale-data"])]
    junit = tmp_path / "junit.xml"
    done = run(tmp_path, "night-3", changed, "night-3", "--baseline", "latest",
               "--fail-on", "regression", f"--junitxml={junit}")
    assert done.returncode != 0, done.stdout[-3000:]
    comparison = json.loads((tmp_path / "reports" / "night-3" / "comparison.json").read_text())
    assert comparison["baselineId"] == "night-2"
    metrics = {(m["storage_class"], m["name"]): m for m in comparison["metrics"]}
    iops = {k: m for k, m in metrics.items() if k[1].endswith("Iops")}
    halved = [m for (sc, _), m in iops.items() if sc == HALVED]
    assert len(halved) == 2 and all(m["decision"] == "regressed" for m in halved), halved
    for m in halved:
        assert -0.65 < m["change"] < -0.35, m
    others = [m for (sc, _), m in metrics.items() if sc == STEADY]
    assert others and all(m["decision"] != "regressed" for m in others), others
    transitions = {(t["storage_class"], t["capability"]): t for t in comparison["transitions"]}
    stale = transitions[(STEADY, "snapshot.volume")]
    assert (stale["before"], stale["after"], stale["regression"]) == (
        "supported", "broken", True)

    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    for m in halved:
        case = cases[f"regression[{HALVED}-{m['name']}]"]
        assert case.find("failure") is not None
    assert cases[f"regression[{STEADY}-snapshot.volume]"].find("failure") is not None
    assert not [n for n in cases if n.startswith(f"regression[{STEADY}-qd")]

    page = (tmp_path / "reports" / "night-3" / "matrix.md").read_text()
    assert "## Compared with night-2" in page
    assert page.index("### Regressions") < page.index("### Improvements") < page.index(
        "### Could not be decided")
    html = (tmp_path / "reports" / "night-3" / "matrix.html").read_text()
    assert "Compared with night-2" in html and "Trends over the stored history" in html
