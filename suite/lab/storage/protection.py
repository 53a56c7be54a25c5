"""Claim protection and reclaim: what kube-controller-manager's pvc-protection and
pv-protection controllers and the external-provisioner's delete path do for lab volumes.

A claim being deleted keeps `kubernetes.io/pvc-protection` while a running consumer
(a pod, or a VMI, since the lab has no virt-launcher pods) names it. Once it is gone its
PV (reclaimPolicy Delete) is deleted; the volume itself is removed from the data plane
when no VolumeAttachment holds it any more, and then the PV's finalizers are released.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..controller import Controller, Key
from ..objects import attached_pv, attachments_of
from .common import (
    FIN_PROVISIONER_DELETE,
    FIN_PV_PROTECTION,
    FIN_PVC_PROTECTION,
    Drivers,
    Obj,
    pv_phase,
    remove_finalizer,
)

if TYPE_CHECKING:
    from ..context import LabContext
    from ..store import Store

FINAL_PHASES = ("Succeeded", "Failed")


def claims_of(obj: Obj) -> list[str]:
    """PVC names a pod or VMI uses (VMIs name DataVolumes, whose PVC has the same name)."""
    spec = obj.get("spec") or {}
    names = []
    for volume in spec.get("volumes") or []:
        ref = volume.get("persistentVolumeClaim") or volume.get("dataVolume") or {}
        name = ref.get("claimName") or ref.get("name")
        if name:
            names.append(name)
    return names


def in_use(store: Store, namespace: str, claim: str) -> list[str]:
    """Running consumers of a claim, as 'kind/name'."""
    users = []
    for ref, kind in (("pods", "Pod"), ("kubevirt.io/virtualmachineinstances", "VMI")):
        for obj in store.list(ref, namespace)[0]:
            phase = (obj.get("status") or {}).get("phase")
            if phase not in FINAL_PHASES and claim in claims_of(obj):
                users.append(f"{kind}/{obj['metadata']['name']}")
    return users


class Protection:
    def __init__(self, ctx: LabContext, drivers: Drivers) -> None:
        self.ctx, self.drivers, self.store = ctx, drivers, ctx.store
        self.claims = Controller(ctx, "pvc-protection", self.reconcile_claim)
        self.volumes = Controller(ctx, "pv-reclaim", self.reconcile_volume)

    def start(self) -> None:
        self.claims.watch("persistentvolumeclaims")
        self.claims.watch("pods", self._consumer_keys)
        self.claims.watch("kubevirt.io/virtualmachineinstances", self._consumer_keys)
        self.volumes.watch("persistentvolumes")
        self.volumes.watch("persistentvolumeclaims", self._pv_keys)
        self.volumes.watch("storage.k8s.io/volumeattachments", self._attachment_keys)

    @staticmethod
    def _consumer_keys(obj: Obj) -> list[Key]:
        return [(obj["metadata"].get("namespace"), name) for name in claims_of(obj)]

    @staticmethod
    def _pv_keys(pvc: Obj) -> list[Key]:
        name = (pvc.get("spec") or {}).get("volumeName")
        return [(None, name)] if name else []

    @staticmethod
    def _attachment_keys(va: Obj) -> list[Key]:
        name = attached_pv(va)
        return [(None, name)] if name else []

    async def reconcile_claim(self, key: Key) -> float | None:
        pvc = self.store.try_get("persistentvolumeclaims", key[0], key[1])
        if not pvc or not pvc["metadata"].get("deletionTimestamp"):
            return None
        if FIN_PVC_PROTECTION not in (pvc["metadata"].get("finalizers") or []):
            return None
        if in_use(self.store, key[0] or "", key[1]):
            return None  # a consumer's end is another event that brings us back
        self.store.mutate("persistentvolumeclaims", key[0], key[1],
                          lambda obj: remove_finalizer(obj, FIN_PVC_PROTECTION))
        return None

    async def reconcile_volume(self, key: Key) -> float | None:
        pv = self.store.try_get("persistentvolumes", None, key[1])
        if not pv or self.drivers.for_pv(pv) is None:
            return None
        if not pv["metadata"].get("deletionTimestamp"):
            self._release_if_claim_gone(pv)
            return None
        return await self._reclaim(pv)

    def _release_if_claim_gone(self, pv: Obj) -> None:
        ref = (pv.get("spec") or {}).get("claimRef") or {}
        if not ref or (pv.get("status") or {}).get("phase") not in ("Bound", "Released"):
            return
        pvc = self.store.try_get("persistentvolumeclaims", ref.get("namespace"),
                                 ref.get("name", ""))
        if pvc and pvc["metadata"]["uid"] == ref.get("uid"):
            return
        name = pv["metadata"]["name"]
        if pv["status"]["phase"] == "Bound":
            self.store.mutate("persistentvolumes", None, name, pv_phase("Released"))
        if pv["spec"].get("persistentVolumeReclaimPolicy") == "Delete":
            self.store.delete("persistentvolumes", None, name)

    async def _reclaim(self, pv: Obj) -> float | None:
        name = pv["metadata"]["name"]
        if attachments_of(self.store, name):
            return None  # detaching first; the attachment's removal brings us back
        if FIN_PROVISIONER_DELETE in (pv["metadata"].get("finalizers") or []):
            await self.ctx.dataplane.delete_volume(pv["spec"]["csi"]["volumeHandle"])

        def release(obj: Obj) -> None:
            remove_finalizer(obj, FIN_PROVISIONER_DELETE)
            remove_finalizer(obj, FIN_PV_PROTECTION)

        self.store.mutate("persistentvolumes", None, name, release)
        return None
