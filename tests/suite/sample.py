"""A small, fixed matrix used by the renderer and schema tests (no cluster needed)."""

from __future__ import annotations

from typing import Any

from suite.checks.base import CAPABILITIES, Outcome
from suite.report.matrix import ClassResult, RunInfo, build_matrix

RBD_FACTS: dict[str, Any] = {
    "provisioner": "rbd.csi.example.io", "allowVolumeExpansion": True,
    "parameters": {"encrypted": "true"}, "volumeSnapshotClasses": ["rbd-snap"],
    "storageProfile": {"claimPropertySets": [
        {"volumeMode": "Block", "accessModes": ["ReadWriteOnce", "ReadWriteMany"]},
        {"volumeMode": "Filesystem", "accessModes": ["ReadWriteOnce"]}]},
}
NFS_FACTS: dict[str, Any] = {
    "provisioner": "nfs.csi.example.io", "allowVolumeExpansion": False, "parameters": {},
    "volumeSnapshotClasses": [], "storageProfile": None,
}

_RBD = {"snapshot.volume": ("broken", "restored bytes differ from snapshot time"),
        "provision.filesystem.rwx": ("unsupported", "Filesystem/ReadWriteMany refused"),
        "perf.fio": ("inconclusive", "fio is not available in the guest")}
_NFS = {"expand.offline": ("unsupported", "the StorageClass forbids expansion"),
        "clone.volume": ("skipped", "not selected by the profile")}


def _outcomes(overrides: dict[str, tuple[str, str]]) -> dict[str, Outcome]:
    result = {}
    for i, cap in enumerate(CAPABILITIES):
        verdict, reason = overrides.get(cap, ("supported", f"{cap} verified"))
        result[cap] = Outcome(cap, verdict, reason, {"pvc": f"pvc-{i}"}, seconds=i + 0.25)
    return result


def sample_matrix() -> dict[str, Any]:
    run = RunInfo(id="kvs-golden", started="2026-01-01T00:00:00Z",
                  finished="2026-01-01T00:10:00Z", profile="quick", suite_version="0.1.0",
                  cluster={"server": "https://127.0.0.1:6443", "kubernetesVersion": "v1.31.6",
                           "kubevirtVersion": "v1.5.2", "cdiVersion": "v1.62.0"})
    perf = [{"job": "lat-randread", "readIops": 1000.0, "writeIops": 0.0, "readBwMiBs": 3.9,
             "writeBwMiBs": 0.0, "latencyUs": {"p50": 900.0, "p90": 1100.0, "p99": 1500.0,
                                                "p99.9": 2000.0, "max": 4000.0}}]
    return build_matrix(run, [ClassResult("rbd", RBD_FACTS, _outcomes(_RBD), perf),
                              ClassResult("nfs", NFS_FACTS, _outcomes(_NFS))])
