"""VirtualMachineSnapshot (snapshot.kubevirt.io/v1beta1), as KubeVirt's snapshot
controller runs it: lock the source (VM status.snapshotInProgress), one VolumeSnapshot per
snapshottable claim (`vmsnapshot-<uid>-volume-<volume>`), a VirtualMachineSnapshotContent
(`vmsnapshot-content-<uid>`) holding the VM and claim specs, then Succeeded with
readyToUse, `snapshotVolumes` and, for a running VM, `indications`. Conditions carry their
text in `reason`, as KubeVirt writes them.

A running VM is frozen through its guest agent before the first VolumeSnapshot is cut
and thawed once every VolumeSnapshot has its creationTime (kubevirt
pkg/storage/snapshot/snapshot.go, source.go); meanwhile the VMI reports fsFreezeStatus
"frozen", as virt-handler copies it from the domain. Without an AgentConnected
condition (the QEMU guest) there is no freeze and the indications say NoGuestAgent;
a paused VM is not frozen either (Paused).
"""

from __future__ import annotations

import copy
from typing import Any

from .. import conditions as cond
from ..clock import now_rfc3339
from ..events import record_event
from .agent import FsFreezer
from .snapshotable import snapshot_class_for, volume_verdict

SNAP = "snapshot.kubevirt.io/virtualmachinesnapshots"
CONTENT = "snapshot.kubevirt.io/virtualmachinesnapshotcontents"
VS = "snapshot.storage.k8s.io/volumesnapshots"
VM = "kubevirt.io/virtualmachines"
VMI = "kubevirt.io/virtualmachineinstances"
FINALIZER = "snapshot.kubevirt.io/vmsnapshot-protection"
CONTENT_FINALIZER = "snapshot.kubevirt.io/vmsnapshotcontent-protection"
SOURCE_MESSAGES = {
    "Online": "Snapshot taken while the VM was running. Consistency depends on guest-agent "
              "quiescing.",
    "GuestAgent": "Guest agent was active and attempted to quiesce the filesystem for "
                  "application consistency.",
    "NoGuestAgent": "Guest agent was not available. Snapshot is crash-consistent and may "
                    "not be application-consistent.",
    "Paused": "Snapshot taken while the VM was paused. Snapshot is crash-consistent and "
              "may not be application-consistent."}


def source_indications(vmi: dict[str, Any] | None) -> list[str]:
    """updateSnapshotSourceIndications: none offline (no VMI: source.go's `online` is
    the VMI's existence); Online, then Paused, GuestAgent or NoGuestAgent, sorted as
    KubeVirt lists its set."""
    if vmi is None:
        return []
    conditions = vmi.get("status", {}).get("conditions")
    if cond.is_true(conditions, "Paused"):
        extra = "Paused"
    elif cond.get(conditions, "AgentConnected") is not None:
        extra = "GuestAgent"
    else:
        extra = "NoGuestAgent"
    return sorted(["Online", extra])


def _conditions(status: dict[str, Any], progressing: tuple[str, str],
                ready: tuple[str, str]) -> None:
    conditions = status.setdefault("conditions", [])
    cond.put(conditions, "Progressing", progressing[0], progressing[1])
    cond.put(conditions, "Ready", ready[0], ready[1])


def _claim(volume: dict[str, Any]) -> str:
    source = volume.get("persistentVolumeClaim") or volume.get("dataVolume") or {}
    return str(source.get("claimName") or source.get("name") or "")


class VmSnapshotController:
    def __init__(self, store: Any, freezer: FsFreezer | None = None) -> None:
        self.store = store
        self.freezer = freezer

    async def reconcile(self, namespace: str, name: str) -> float | None:
        snap = self.store.try_get(SNAP, namespace, name)
        if snap is None:
            return None
        if snap["metadata"].get("deletionTimestamp"):
            self._delete(snap)
            return None
        phase = snap.get("status", {}).get("phase", "")
        if phase in ("Succeeded", "Failed"):
            return None
        vm = self.store.try_get(VM, namespace, snap["spec"]["source"]["name"])
        if vm is None:
            self._mutate(snap, lambda s: cond.put(s.setdefault("conditions", []), "Progressing",
                                              "False", "Source does not exist"))
            return 2.0
        if not phase:
            self._lock(snap, vm)
            return 0.0
        content = self.store.try_get(CONTENT, namespace, self._content_name(snap))
        if content is None:
            await self._freeze(vm)
            self._create_content(snap, vm)
            return 0.2
        return self._progress(snap, vm, content)

    @staticmethod
    def _content_name(snap: dict[str, Any]) -> str:
        return f"vmsnapshot-content-{snap['metadata']['uid']}"

    def _lock(self, snap: dict[str, Any], vm: dict[str, Any]) -> None:
        vmi = self.store.try_get(VMI, vm["metadata"]["namespace"], vm["metadata"]["name"])
        indications = source_indications(vmi)

        def start(obj: dict[str, Any]) -> None:
            finalizers = obj["metadata"].setdefault("finalizers", [])
            if FINALIZER not in finalizers:
                finalizers.append(FINALIZER)
            status = obj.setdefault("status", {})
            status.update(sourceUID=vm["metadata"]["uid"], phase="InProgress",
                          readyToUse=False, creationTime=None)
            if indications:
                status["indications"] = indications
                status["sourceIndications"] = [{"indication": i, "message": SOURCE_MESSAGES[i]}
                                               for i in indications]
            _conditions(status, ("True", "Source locked and operation in progress"),
                        ("False", "Not ready"))
        self.store.mutate(SNAP, snap["metadata"]["namespace"], snap["metadata"]["name"], start)
        self.store.mutate(VM, vm["metadata"]["namespace"], vm["metadata"]["name"],
                          lambda o: o.setdefault("status", {}).__setitem__(
                              "snapshotInProgress", snap["metadata"]["name"]))

    def _create_content(self, snap: dict[str, Any], vm: dict[str, Any]) -> None:
        ns = snap["metadata"]["namespace"]
        backups, included, excluded = [], [], []
        templates = {t["metadata"]["name"]: (t.get("spec", {}).get("storage") or {}).get(
            "storageClassName", "") for t in vm["spec"].get("dataVolumeTemplates") or []}
        for volume in vm["spec"].get("template", {}).get("spec", {}).get("volumes", []):
            enabled, _ = volume_verdict(self.store, ns, volume, templates)
            pvc = self.store.try_get("persistentvolumeclaims", ns, _claim(volume))
            if not enabled or pvc is None:
                excluded.append(volume["name"])
                continue
            included.append(volume["name"])
            backups.append(self._backup(snap, volume["name"], pvc))
        content = {"metadata": {"name": self._content_name(snap), "namespace": ns,
                                "finalizers": [CONTENT_FINALIZER],
                                "ownerReferences": [cond.owner_ref(snap)]},
                   "spec": {"virtualMachineSnapshotName": snap["metadata"]["name"],
                            "source": {"virtualMachine": _vm_copy(vm)},
                            "volumeBackups": backups},
                   "status": {"readyToUse": False}}
        content = self.store.create(CONTENT, content)
        for backup in backups:
            self._create_volume_snapshot(snap, content, backup)
        self._mutate(snap, lambda s: s.update(
            virtualMachineSnapshotContentName=content["metadata"]["name"],
            snapshotVolumes={"includedVolumes": included, "excludedVolumes": excluded}))

    def _backup(self, snap: dict[str, Any], volume: str, pvc: dict[str, Any]) -> dict[str, Any]:
        meta = pvc["metadata"]
        return {"volumeName": volume,
                "volumeSnapshotName": f"vmsnapshot-{snap['metadata']['uid']}-volume-{volume}",
                "persistentVolumeClaim": {
                    "metadata": {"name": meta["name"], "namespace": meta["namespace"],
                                 "labels": dict(meta.get("labels") or {}),
                                 "annotations": dict(meta.get("annotations") or {})},
                    "spec": copy.deepcopy(pvc["spec"])}}

    def _create_volume_snapshot(self, snap: dict[str, Any], content: dict[str, Any],
                                backup: dict[str, Any]) -> None:
        ns = snap["metadata"]["namespace"]
        claim = backup["persistentVolumeClaim"]
        vs: dict[str, Any] = {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
              "metadata": {"name": backup["volumeSnapshotName"], "namespace": ns,
                           "labels": {"snapshot.kubevirt.io/source-vm-name":
                                      snap["spec"]["source"]["name"]},
                           "ownerReferences": [cond.owner_ref(content)]},
              "spec": {"source": {"persistentVolumeClaimName": claim["metadata"]["name"]},
                       "volumeSnapshotClassName": snapshot_class_for(
                           self.store, claim["spec"].get("storageClassName"))}}
        if self.store.try_get(VS, ns, vs["metadata"]["name"]) is None:
            self.store.create(VS, vs, admit=True)

    def _progress(self, snap: dict[str, Any], vm: dict[str, Any],
                  content: dict[str, Any]) -> float | None:
        ns = snap["metadata"]["namespace"]
        statuses, ready = [], True
        for backup in content["spec"].get("volumeBackups", []):
            vs = self.store.try_get(VS, ns, backup["volumeSnapshotName"]) or {}
            vs_status = vs.get("status") or {}
            ready = ready and bool(vs_status.get("readyToUse"))
            entry = {"volumeSnapshotName": backup["volumeSnapshotName"],
                     "creationTime": vs_status.get("creationTime"),
                     "readyToUse": bool(vs_status.get("readyToUse"))}
            if vs_status.get("error"):
                entry["error"] = vs_status["error"]
            statuses.append(entry)
        if all(s["creationTime"] for s in statuses):
            self._thaw(vm)  # every volume is cut: the guest may write again
        if not ready:
            return 0.5
        now = now_rfc3339()
        self.store.mutate(CONTENT, ns, content["metadata"]["name"], lambda c: c.__setitem__(
            "status", {"creationTime": now, "readyToUse": True,
                       "volumeSnapshotStatus": statuses}))
        self._complete(snap, vm, now)
        return None

    def _complete(self, snap: dict[str, Any], vm: dict[str, Any], now: str) -> None:
        def done(status: dict[str, Any]) -> None:
            status.update(phase="Succeeded", readyToUse=True, creationTime=now)
            _conditions(status, ("False", "Operation complete"), ("True", "Ready"))
        self._mutate(snap, done)
        self._unlock(vm, snap["metadata"]["name"])
        record_event(self.store, snap, "SuccessfulVirtualMachineSnapshotContentCreate",
                     f"Successfully created VirtualMachineSnapshotContent "
                     f"{self._content_name(snap)}", component="snapshot-controller")

    def _unlock(self, vm: dict[str, Any], name: str) -> None:
        def clear(obj: dict[str, Any]) -> None:
            if obj.get("status", {}).get("snapshotInProgress") == name:
                obj["status"].pop("snapshotInProgress")
        current = self.store.try_get(VM, vm["metadata"]["namespace"], vm["metadata"]["name"])
        if current is not None:
            self.store.mutate(VM, vm["metadata"]["namespace"], vm["metadata"]["name"], clear)

    def _delete(self, snap: dict[str, Any]) -> None:
        ns = snap["metadata"]["namespace"]
        content = self.store.try_get(CONTENT, ns, self._content_name(snap))
        if content is not None and snap["spec"].get("deletionPolicy", "Delete") == "Delete":
            self.store.mutate(CONTENT, ns, content["metadata"]["name"], lambda c: c[
                "metadata"].__setitem__("finalizers", []))
            if self.store.try_get(CONTENT, ns, content["metadata"]["name"]) is not None:
                self.store.delete(CONTENT, ns, content["metadata"]["name"])
        vm = self.store.try_get(VM, ns, snap["spec"]["source"]["name"])
        if vm is not None:
            self._thaw(vm)
            self._unlock(vm, snap["metadata"]["name"])
        self.store.mutate(SNAP, ns, snap["metadata"]["name"], lambda o: o["metadata"].__setitem__(
            "finalizers", [f for f in o["metadata"].get("finalizers", []) if f != FINALIZER]))

    async def _freeze(self, vm: dict[str, Any]) -> None:
        """source.Freeze: only a running, unpaused VM with its agent connected."""
        vmi = self.store.try_get(VMI, vm["metadata"]["namespace"], vm["metadata"]["name"])
        if self.freezer is None or "GuestAgent" not in source_indications(vmi):
            return
        assert vmi is not None
        if await self.freezer.freeze(vmi["metadata"]["uid"]):
            self._freeze_status(vmi, "frozen")

    def _thaw(self, vm: dict[str, Any]) -> None:
        vmi = self.store.try_get(VMI, vm["metadata"]["namespace"], vm["metadata"]["name"])
        if self.freezer is None or vmi is None:
            return
        self.freezer.thaw(vmi["metadata"]["uid"])
        if vmi.get("status", {}).get("fsFreezeStatus"):
            self._freeze_status(vmi, None)

    def _freeze_status(self, vmi: dict[str, Any], value: str | None) -> None:
        """virt-handler's fsFreezeStatus: "frozen" while frozen, absent when thawed."""
        def change(obj: dict[str, Any]) -> None:
            status = obj.setdefault("status", {})
            if value:
                status["fsFreezeStatus"] = value
            else:
                status.pop("fsFreezeStatus", None)
        self.store.mutate(VMI, vmi["metadata"]["namespace"], vmi["metadata"]["name"], change)

    def _mutate(self, snap: dict[str, Any], change: Any) -> None:
        """Apply `change(status)` to the snapshot's status."""
        self.store.mutate(SNAP, snap["metadata"]["namespace"], snap["metadata"]["name"],
                          lambda obj: change(obj.setdefault("status", {})))


def _vm_copy(vm: dict[str, Any]) -> dict[str, Any]:
    meta = vm["metadata"]
    return {"metadata": {"name": meta["name"], "namespace": meta["namespace"],
                         "uid": meta["uid"], "generation": meta.get("generation", 1),
                         "labels": dict(meta.get("labels") or {}),
                         "annotations": dict(meta.get("annotations") or {})},
            "spec": copy.deepcopy(vm["spec"]), "status": {}}
