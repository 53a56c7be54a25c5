"""The throttled lab class is the proof that fio through the guest measures the storage.

A class limited to N IOPS must measure close to N on the high-depth random read job,
and its queue-depth-1 latency must be close to 1/N seconds, because the limit binds.
The run goes through the whole path: suite -> console -> probe -> fio in the guest ->
FUSE export -> qemu-storage-daemon throttle group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import PROFILE, run_suite

LIMIT_IOPS = 300
TOLERANCE = 0.15


def perf_profile(folder: Path) -> Path:
    profile = yaml.safe_load(PROFILE.read_text())
    profile["name"] = "throttle"
    profile["families"] = ["perf"]
    profile["fio"] = {"repeats": 1, "sizeMiB": 16, "jobs": [
        {"name": "qd1-randread", "rw": "randread", "bs": "4k", "iodepth": 1, "runtime_s": 3},
        {"name": "qd16-randread", "rw": "randread", "bs": "4k", "iodepth": 16,
         "runtime_s": 3},
    ]}
    path = folder / "throttle.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


def fio_entries(matrix: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (sc,) = matrix["storageClasses"]
    return {entry["job"]: entry for entry in sc["performance"]["fio"]}


@pytest.mark.extended
@pytest.mark.slow
def test_throttled_class_measures_its_limit(lab_process: Any, tmp_path: Path) -> None:
    lab = lab_process([{
        "name": "e2e-throttled", "provisioner": "throttled.csi.e2e.io",
        "volumeBindingMode": "Immediate", "modes": {"Block": ["ReadWriteOnce"]},
        "expansion": "none", "snapshots": False, "clone": "copy", "encryption": "none",
        "limits": {"iops": LIMIT_IOPS}, "faults": []}])
    result = run_suite(lab.kubeconfig, tmp_path / "reports", "--profile",
                       str(perf_profile(tmp_path)), "-k", "perf.fio")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    jobs = fio_entries(result.matrix())
    deep, qd1 = jobs["qd16-randread"], jobs["qd1-randread"]
    assert abs(deep["readIops"] - LIMIT_IOPS) <= TOLERANCE * LIMIT_IOPS, deep
    expected_latency_us = 1e6 / LIMIT_IOPS
    assert abs(qd1["latencyUs"]["p50"] - expected_latency_us) <= (
        TOLERANCE * expected_latency_us), qd1
    assert abs(qd1["readIops"] - LIMIT_IOPS) <= TOLERANCE * LIMIT_IOPS, qd1
