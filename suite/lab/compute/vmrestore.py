"""VirtualMachineRestore (snapshot.kubevirt.io/v1beta1) to the same, stopped VM.

As KubeVirt's restore controller: wait for the target VM to be stopped, create one PVC
per backed-up volume from its VolumeSnapshot (`restore-<restore uid>-<volume>`), wait
for them, re-point the VM's volumes at them (the DataVolume templates they replace
are dropped and their DataVolumes deleted, listed in `deletedDataVolumes`), then
`complete: true` with Progressing/Ready "Operation complete".
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .. import conditions as cond
from ..clock import now_rfc3339
from ..events import record_event

if TYPE_CHECKING:
    from ..store import Store

RESTORE = "snapshot.kubevirt.io/virtualmachinerestores"
SNAP = "snapshot.kubevirt.io/virtualmachinesnapshots"
CONTENT = "snapshot.kubevirt.io/virtualmachinesnapshotcontents"
VM = "kubevirt.io/virtualmachines"
VMI = "kubevirt.io/virtualmachineinstances"
DV = "cdi.kubevirt.io/datavolumes"
VS = "snapshot.storage.k8s.io/volumesnapshots"
SKIPPED_ANNOTATIONS = ("pv.kubernetes.io/", "volume.kubernetes.io/", "volume.beta.kubernetes",
                       "cdi.kubevirt.io/storage.")


def _progress(status: dict[str, Any], text: str, done: bool = False) -> None:
    conditions = status.setdefault("conditions", [])
    cond.put(conditions, "Progressing", "False" if done else "True", text)
    cond.put(conditions, "Ready", "True" if done else "False", text)


def _initial(status: dict[str, Any]) -> None:
    status["complete"] = False
    _progress(status, "Initializing VirtualMachineRestore")


def _waiting(status: dict[str, Any], restores: list[dict[str, Any]]) -> None:
    status["restores"] = restores
    _progress(status, "Waiting for new PVCs")


class VmRestoreController:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def reconcile(self, namespace: str, name: str) -> float | None:
        restore = self.store.try_get(RESTORE, namespace, name)
        if restore is None or restore.get("status", {}).get("complete"):
            return None
        if not restore.get("status"):
            self._status(restore, _initial)
            return 0.0
        vm = self.store.try_get(VM, namespace, restore["spec"]["target"]["name"])
        content = self._content(restore)
        if vm is None or content is None:
            self._status(restore, lambda s: _progress(s, "Waiting for snapshot and target"))
            return 1.0
        if self.store.try_get(VMI, namespace, vm["metadata"]["name"]) is not None:
            self._status(restore, lambda s: _progress(s, "Waiting for target VM to be stopped"))
            return 1.0
        self._lock(vm, restore)
        restores = [self._ensure_pvc(restore, vm, b) for b in content["spec"]["volumeBackups"]]
        if not all(self._usable(namespace, r["persistentVolumeClaim"]) for r in restores):
            self._status(restore, lambda s: _waiting(s, restores))
            return 0.5
        deleted = self._update_vm(vm, restores)
        self._finish(restore, vm, restores, deleted)
        return None

    def _content(self, restore: dict[str, Any]) -> dict[str, Any] | None:
        ns = restore["metadata"]["namespace"]
        snap = self.store.try_get(SNAP, ns, restore["spec"]["virtualMachineSnapshotName"])
        if snap is None or not snap.get("status", {}).get("readyToUse"):
            return None
        return self.store.try_get(CONTENT, ns,
                                  snap["status"].get("virtualMachineSnapshotContentName", ""))

    def _lock(self, vm: dict[str, Any], restore: dict[str, Any]) -> None:
        self.store.mutate(VM, vm["metadata"]["namespace"], vm["metadata"]["name"],
                          lambda o: o.setdefault("status", {}).__setitem__(
                              "restoreInProgress", restore["metadata"]["name"]))

    def _ensure_pvc(self, restore: dict[str, Any], vm: dict[str, Any],
                    backup: dict[str, Any]) -> dict[str, Any]:
        ns = restore["metadata"]["namespace"]
        name = f"restore-{restore['metadata']['uid']}-{backup['volumeName']}"
        if self.store.try_get("persistentvolumeclaims", ns, name) is None:
            self.store.create("persistentvolumeclaims", self._pvc(restore, vm, backup, name),
                              admit=True)
        return {"volumeName": backup["volumeName"], "persistentVolumeClaim": name,
                "volumeSnapshotName": backup["volumeSnapshotName"]}

    def _pvc(self, restore: dict[str, Any], vm: dict[str, Any], backup: dict[str, Any],
             name: str) -> dict[str, Any]:
        source = backup["persistentVolumeClaim"]
        spec = copy.deepcopy(source["spec"])
        for key in ("volumeName", "dataSource", "dataSourceRef"):
            spec.pop(key, None)
        vs = self.store.try_get(VS, restore["metadata"]["namespace"],
                                backup["volumeSnapshotName"]) or {}
        size = (vs.get("status") or {}).get("restoreSize")
        if size:
            spec.setdefault("resources", {}).setdefault("requests", {})["storage"] = size
        spec["dataSource"] = {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
                              "name": backup["volumeSnapshotName"]}
        annotations = {k: v for k, v in (source["metadata"].get("annotations") or {}).items()
                       if not k.startswith(SKIPPED_ANNOTATIONS)}
        annotations["restore.kubevirt.io/name"] = restore["metadata"]["name"]
        return {"metadata": {"name": name, "namespace": restore["metadata"]["namespace"],
                             "labels": dict(source["metadata"].get("labels") or {}),
                             "annotations": annotations,
                             "ownerReferences": [cond.owner_ref(vm, controller=False)]},
                "spec": spec}

    def _usable(self, namespace: str, claim: str) -> bool:
        pvc = self.store.try_get("persistentvolumeclaims", namespace, claim) or {}
        if pvc.get("status", {}).get("phase") == "Bound":
            return True
        sc = self.store.try_get("storageclasses.storage.k8s.io", None,
                                pvc.get("spec", {}).get("storageClassName") or "")
        return (sc or {}).get("volumeBindingMode") == "WaitForFirstConsumer"

    def _update_vm(self, vm: dict[str, Any], restores: list[dict[str, Any]]) -> list[str]:
        """Point the restored volumes at the new claims; returns the DataVolumes dropped."""
        by_volume = {r["volumeName"]: r["persistentVolumeClaim"] for r in restores}
        dropped: list[str] = []

        def change(obj: dict[str, Any]) -> None:
            volumes = obj["spec"].get("template", {}).get("spec", {}).get("volumes", [])
            for index, volume in enumerate(volumes):
                if volume["name"] in by_volume:
                    if "dataVolume" in volume:
                        dropped.append(volume["dataVolume"]["name"])
                    volumes[index] = {"name": volume["name"], "persistentVolumeClaim": {
                        "claimName": by_volume[volume["name"]]}}
            templates = obj["spec"].get("dataVolumeTemplates") or []
            obj["spec"]["dataVolumeTemplates"] = [
                t for t in templates if t["metadata"]["name"] not in dropped]
        self.store.mutate(VM, vm["metadata"]["namespace"], vm["metadata"]["name"], change,
                          subresource=None)
        for name in dropped:
            if self.store.try_get(DV, vm["metadata"]["namespace"], name) is not None:
                self.store.delete(DV, vm["metadata"]["namespace"], name)
        return dropped

    def _finish(self, restore: dict[str, Any], vm: dict[str, Any],
                restores: list[dict[str, Any]], deleted: list[str]) -> None:
        now = now_rfc3339()

        def done(status: dict[str, Any]) -> None:
            status.update(complete=True, restoreTime=now, restores=restores,
                          deletedDataVolumes=deleted)
            _progress(status, "Operation complete", done=True)
        self._status(restore, done)

        def unlock(obj: dict[str, Any]) -> None:
            obj.get("status", {}).pop("restoreInProgress", None)
        self.store.mutate(VM, vm["metadata"]["namespace"], vm["metadata"]["name"], unlock)
        record_event(self.store, restore, "VirtualMachineRestoreComplete",
                     f"Successfully completed VirtualMachineRestore "
                     f"{restore['metadata']['name']}", component="restore-controller")

    def _status(self, restore: dict[str, Any], change: Any) -> None:
        self.store.mutate(RESTORE, restore["metadata"]["namespace"], restore["metadata"]["name"],
                          lambda obj: change(obj.setdefault("status", {})))
