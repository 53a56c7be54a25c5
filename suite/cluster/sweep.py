"""Deleting what earlier runs left behind, found by the run label alone.

A crashed or ``--keep`` run leaves its namespace (and everything in it) labelled with
``kvstorage.io/run-id``; deleting those namespaces removes the rest. Labelled objects
outside run namespaces are deleted one by one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from suite.cluster.connect import connect
from suite.cluster.errors import KubeError, NotFound
from suite.cluster.kube import RUN_LABEL, Kube

if TYPE_CHECKING:
    from suite.config.run import SweepConfig

# Kinds the suite creates; listed across namespaces by label.
SWEEP_KINDS = [
    ("kubevirt.io/v1", "VirtualMachine"),
    ("kubevirt.io/v1", "VirtualMachineInstanceMigration"),
    ("snapshot.kubevirt.io/v1beta1", "VirtualMachineRestore"),
    ("snapshot.kubevirt.io/v1beta1", "VirtualMachineSnapshot"),
    ("cdi.kubevirt.io/v1beta1", "DataVolume"),
    ("snapshot.storage.k8s.io/v1", "VolumeSnapshot"),
    ("v1", "Pod"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "Secret"),
]


def sweep(kube: Kube, run_id: str | None = None) -> tuple[list[str], list[str]]:
    """Delete labelled objects and namespaces; returns (deleted, errors) as one-liners."""
    selector = f"{RUN_LABEL}={run_id}" if run_id else RUN_LABEL
    deleted: list[str] = []
    errors: list[str] = []
    for api_version, kind in SWEEP_KINDS:
        _sweep_kind(kube, api_version, kind, selector, deleted, errors)
    for ns in kube.list("v1", "Namespace", label_selector=selector):
        name = ns["metadata"]["name"]
        try:
            kube.delete("v1", "Namespace", name, wait=False)
            deleted.append(f"Namespace {name}")
        except KubeError as exc:
            errors.append(f"Namespace {name}: {exc}")
    return deleted, errors


def _sweep_kind(kube: Kube, api_version: str, kind: str, selector: str,
                deleted: list[str], errors: list[str]) -> None:
    try:
        items = kube.list(api_version, kind, label_selector=selector)
    except NotFound:
        return  # the cluster does not serve this kind
    for obj in items:
        meta = obj["metadata"]
        where = f"{kind} {meta.get('namespace', '')}/{meta['name']}"
        try:
            kube.delete(api_version, kind, meta["name"], meta.get("namespace"), wait=False)
            deleted.append(where)
        except KubeError as exc:
            errors.append(f"{where}: {exc}")


def run_sweep(config: SweepConfig) -> int:
    """Sweep by label (only ``config.run_id``'s when given); prints what went, returns the
    exit code."""
    transport = connect(config.kubeconfig, config.context)
    deleted, errors = sweep(Kube(transport, config.run_id or "sweep"), config.run_id)
    for line in deleted:
        print(f"deleted {line}")
    for line in errors:
        print(f"could not delete {line}")
    print(f"sweep: {len(deleted)} deleted, {len(errors)} failed")
    return 1 if errors else 0
