"""A matrix.json dict built from real fio runs plus a few capability cells.

The performance entries come from `run_job_set` driving the installed fio on
a temp file (two short jobs, two "classes" = two real runs), so the renderers
are tested on exactly what the suite produces.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from suite.fio.jobs import parse_job_set
from suite.fio.local import local_execute
from suite.fio.runner import run_job_set

JOBS = [{"name": "lat-randread", "rw": "randread", "bs": "4k", "runtime_s": 1},
        {"name": "bw-read", "rw": "read", "bs": "1M", "iodepth": 4, "runtime_s": 1}]


def _cell(verdict: str, reason: str, **evidence: Any) -> dict[str, Any]:
    return {"verdict": verdict, "reason": reason, "evidence": evidence, "seconds": 1.5,
            "declared": verdict in ("supported", "broken")}


def _class(name: str, performance: list[dict[str, Any]], broken: bool) -> dict[str, Any]:
    caps = {
        "provision.block.rwo": _cell("supported", "VM wrote and read back 64 MiB",
                                     sha256="ab12" * 16),
        "provision.filesystem.rwx": _cell("unsupported", "StorageProfile offers no RWX"),
        "snapshot.volume": (_cell("broken", "restored bytes differ <stale> & wrong",
                                  expected="aa", got="bb") if broken
                            else _cell("supported", "restore matched")),
        "migration.live": _cell("inconclusive", "guest console timed out"),
        "encryption.at-rest": _cell("skipped", "not selected by the profile"),
    }
    return {"name": name, "provisioner": f"{name}.csi.lab.io",
            "facts": {"provisioner": f"{name}.csi.lab.io", "allowVolumeExpansion": True,
                      "parameters": {"tier": name}},
            "capabilities": caps, "performance": {"fio": performance}}


@pytest.fixture(scope="session")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder: Path = tmp_path_factory.mktemp("report-fio")
    jobs = parse_job_set(JOBS, "tests/report/conftest.py")
    names = ("lab-fast", "lab-slow")
    with ThreadPoolExecutor(len(names)) as pool:  # two classes measured side by side
        results = list(pool.map(lambda name: run_job_set(
            local_execute(folder / f"{name}.dat"), jobs, size_bytes=8 << 20), names))
    classes = [_class(name, result.matrix_entries(), broken=name == "lab-slow")
               for name, result in zip(names, results, strict=True)]
    shutil.rmtree(folder, ignore_errors=True)  # the test areas are no longer needed
    return {"schema": "kubevirt-storage-matrix/v1",
            "run": {"id": "20261125-test", "started": "2026-11-25T17:00:00Z",
                    "finished": "2026-11-25T17:05:00Z", "profile": "quick",
                    "suiteVersion": "0.1.0",
                    "cluster": {"server": "https://127.0.0.1:6443", "kubernetesVersion": "1.31",
                                "kubevirtVersion": "1.4", "cdiVersion": "1.60"}},
            "storageClasses": classes}
