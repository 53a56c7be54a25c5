"""Snapshot and restore steps shared by the snapshot family (and usable by others).

Each step waits on the real objects' status fields (VolumeSnapshot `readyToUse` /
`error`, VirtualMachineSnapshot `phase` / `snapshotVolumes`, VirtualMachineRestore
`complete` / `Failure`). A failure or a wait that runs out raises ``StepFailed``
with the cell's verdict (``broken``, or ``unsupported`` for a VM snapshot with no
VolumeSnapshotClass), which ``suite/checks/failures.py`` turns into the Outcome.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from suite.cluster.errors import KubeError, NotFound, WaitFailed, WaitTimeout
from suite.vm import claims
from suite.vm.errors import StepFailed
from suite.vm.manifests import (
    SNAPSHOT_API,
    VM_SNAPSHOT_API,
    DataDisk,
    pvc_from_snapshot,
    vm_restore,
    vm_snapshot,
    volume_snapshot,
)
from suite.vm.naming import unique_name

if TYPE_CHECKING:
    from collections.abc import Callable

    from suite.checks.base import Cell, ClassContext

Obj = dict[str, Any]
VM_SNAPSHOT_APIS = (VM_SNAPSHOT_API, "snapshot.kubevirt.io/v1alpha1")
DEFAULT_CLASS = "snapshot.storage.kubernetes.io/is-default-class"


def class_for(ctx: ClassContext) -> str | None:
    """A VolumeSnapshotClass of the class's driver (the default one first), or None."""
    try:
        items = ctx.kube.list(SNAPSHOT_API, "VolumeSnapshotClass")
    except KubeError:
        return None  # the snapshot API is not served at all
    driver = ctx.facts.get("provisioner")
    matching = [c for c in items if c.get("driver") == driver]
    matching.sort(key=lambda c: ((c["metadata"].get("annotations") or {})
                                 .get(DEFAULT_CLASS) != "true", c["metadata"]["name"]))
    return matching[0]["metadata"]["name"] if matching else None


def _ready_snapshot(obj: Obj) -> bool | str:
    """Ready, or a final error; the snapshotter's retried errors (DeadlineExceeded,
    Aborted, ...) also land in `status.error` and only make the wait go on."""
    status = obj.get("status") or {}
    if status.get("readyToUse"):
        return True
    message = str((status.get("error") or {}).get("message") or "")
    if message and claims.is_final("SnapshotError", message):
        return message
    return False


def take_volume_snapshot(ctx: ClassContext, cell: Cell, claim: str, snapshot_class: str
                         ) -> Obj:
    """A VolumeSnapshot of `claim`, ready to use; raises StepFailed (broken)."""
    name = unique_name(ctx.storage_class, "vsnap")
    ctx.kube.create(volume_snapshot(name, ctx.namespace, claim, snapshot_class))
    cell.evidence.update(volumeSnapshot=name, volumeSnapshotClass=snapshot_class)
    return _await(ctx, cell, SNAPSHOT_API, "VolumeSnapshot", name, _ready_snapshot,
                  ctx.profile.timeouts.snapshot_s, "broken", "not ready")


def _await(ctx: ClassContext, cell: Cell, api: str, kind: str, name: str,
           predicate: Callable[[Obj], bool | str], timeout_s: float, verdict: str,
           pending: str) -> Obj:
    """Wait for ``predicate``; a failure or timeout raises StepFailed with ``verdict``."""
    try:
        return ctx.kube.wait_for(api, kind, name, predicate, timeout_s, f"{kind} {name}",
                                 ctx.namespace)
    except WaitFailed as failed:
        raise StepFailed(verdict, f"{kind} {name} failed: {failed.reason}") from None
    except WaitTimeout as timeout:
        error = (((timeout.last or {}).get("status") or {}).get("error") or {}).get("message")
        said = f" (last error: {error})" if error else ""
        raise StepFailed(verdict, f"{kind} {name} {pending} within {timeout_s:.0f}s{said}"
                         ) from None


def restore_claim(ctx: ClassContext, snapshot: Obj, disk: DataDisk) -> str:
    """A new claim from the snapshot; returns its name (binding is waited on by the VM)."""
    source = claims.get_claim(ctx.kube, disk.claim_name, ctx.namespace)
    size = str((snapshot.get("status") or {}).get("restoreSize") or claims.capacity(source))
    name = unique_name(ctx.storage_class, "restore")
    ctx.kube.create(pvc_from_snapshot(name, ctx.namespace, snapshot["metadata"]["name"],
                                      disk, size))
    return name


def _create_vm_snapshot(ctx: ClassContext, vm: str) -> tuple[str, str]:
    name = unique_name(ctx.storage_class, "vmsnap")
    for api in VM_SNAPSHOT_APIS:  # v1beta1 from KubeVirt 1.3, v1alpha1 before
        try:
            ctx.kube.create(vm_snapshot(name, ctx.namespace, vm, api))
            return api, name
        except NotFound:
            continue
    raise NotFound(404, "NotFound", "the cluster serves no VirtualMachineSnapshot API")


def _vm_snapshot_done(obj: Obj) -> bool | str:
    status = obj.get("status") or {}
    if status.get("phase") == "Failed":
        return str((status.get("error") or {}).get("message") or "phase Failed")
    return status.get("phase") == "Succeeded" and bool(status.get("readyToUse"))


def take_vm_snapshot(ctx: ClassContext, cell: Cell, vm: str, volume: str,
                     snapshot_class: str | None) -> Obj:
    """A VirtualMachineSnapshot of `vm` holding `volume`; raises StepFailed (broken, or
    unsupported when the driver has no VolumeSnapshotClass)."""
    api, name = _create_vm_snapshot(ctx, vm)
    cell.evidence.update(vmSnapshot=name, volumeSnapshotClass=snapshot_class)
    verdict = "broken" if snapshot_class else "unsupported"
    snap = _await(ctx, cell, api, "VirtualMachineSnapshot", name, _vm_snapshot_done,
                  ctx.profile.timeouts.snapshot_s, verdict, "not ready")
    status = snap.get("status") or {}
    cell.evidence.update(indications=status.get("indications"),
                         snapshotVolumes=status.get("snapshotVolumes"))
    excluded = _excluded(snap, volume)
    if excluded:
        why = _exclusion_reason(ctx, vm, volume)
        raise StepFailed(verdict, f"VirtualMachineSnapshot left the data disk out{why}")
    snap["apiVersion"] = api
    return snap


def _excluded(snap: Obj, volume: str) -> bool:
    volumes = (snap.get("status") or {}).get("snapshotVolumes")
    if not volumes:
        return False  # older KubeVirt: no list; the restored bytes will tell
    return volume in (volumes.get("excludedVolumes") or []) or volume not in (
        volumes.get("includedVolumes") or [])


def _exclusion_reason(ctx: ClassContext, vm: str, volume: str) -> str:
    obj = ctx.kube.get("kubevirt.io/v1", "VirtualMachine", vm, ctx.namespace)
    for entry in (obj.get("status") or {}).get("volumeSnapshotStatuses") or []:
        if entry.get("name") == volume and entry.get("reason"):
            return f": {entry['reason']}"
    return ""


def _restore_done(obj: Obj) -> bool | str:
    status = obj.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Failure" and condition.get("status") == "True":
            return str(condition.get("reason") or condition.get("message") or "Failure")
    return bool(status.get("complete"))


def restore_vm(ctx: ClassContext, cell: Cell, vm: str, snap: Obj) -> Obj:
    """Restore `vm` from `snap` and wait until complete; raises StepFailed (broken)."""
    api = snap["apiVersion"]
    name = f"{snap['metadata']['name']}-r{secrets.token_hex(2)}"
    ctx.kube.create(vm_restore(name, ctx.namespace, vm, snap["metadata"]["name"], api))
    cell.evidence.update(vmRestore=name)
    return _await(ctx, cell, api, "VirtualMachineRestore", name, _restore_done,
                  ctx.profile.timeouts.restore_s, "broken", "not complete")


def restored_claim(restore: Obj, volume: str) -> str | None:
    for entry in (restore.get("status") or {}).get("restores") or []:
        if entry.get("volumeName") == volume:
            return entry.get("persistentVolumeClaim")
    return None
