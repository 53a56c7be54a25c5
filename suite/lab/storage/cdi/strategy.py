"""How CDI clones: the strategy (CDI override, StorageProfile, default `snapshot`) and
the fallbacks to host-assisted copy, with the reasons and messages CDI records
(clone/planner.go).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..bootstrap import CDI_NAME
from ..common import Obj, parse_quantity, requested_bytes, volume_mode

if TYPE_CHECKING:
    from ...context import LabContext

FALLBACKS = {
    "NoVolumeSnapshotClass": "No compatible volumesnapshotclass found",
    "IncompatibleProvisioners": "Provisioners are incompatible",
    "IncompatibleVolumeModes": "The volume modes of source and target are incompatible",
    "NoVolumeExpansion": "No volume expansion is possible",
}


@dataclass(frozen=True)
class ClonePlan:
    strategy: str                  # csi-clone | snapshot | copy (what will really happen)
    source_namespace: str
    source_name: str
    fallback_event: str | None = None

    @property
    def fallback_reason(self) -> str | None:
        return FALLBACKS.get(self.fallback_event or "")


class SourceMissing(Exception):
    """CloneWithoutSource: the source claim is not there (yet)."""


def wanted_strategy(ctx: LabContext, sc_name: str | None) -> str:
    cdi = ctx.store.try_get("cdi.kubevirt.io/cdis", None, CDI_NAME) or {}
    override = (cdi.get("spec") or {}).get("cloneStrategyOverride")
    if override:
        return str(override)
    profile = ctx.store.try_get("cdi.kubevirt.io/storageprofiles", None, sc_name or "") or {}
    return str((profile.get("status") or {}).get("cloneStrategy") or "snapshot")


def plan_pvc_clone(ctx: LabContext, dv: Obj, target: Obj) -> ClonePlan:
    source = dv["spec"]["source"]["pvc"]
    namespace = source.get("namespace") or dv["metadata"]["namespace"]
    src = ctx.store.try_get("persistentvolumeclaims", namespace, source.get("name", ""))
    if src is None:
        raise SourceMissing(f"The source pvc {source.get('name')} doesn't exist")
    strategy = wanted_strategy(ctx, target.get("storageClassName"))
    if strategy == "copy" or namespace != dv["metadata"]["namespace"]:
        return ClonePlan("copy", namespace, src["metadata"]["name"])
    event = _fallback(ctx, strategy, src, target)
    return ClonePlan("copy" if event else strategy, namespace, src["metadata"]["name"], event)


def _fallback(ctx: LabContext, strategy: str, src: Obj, target: Obj) -> str | None:
    src_sc = _class(ctx, (src.get("spec") or {}).get("storageClassName"))
    dst_sc = _class(ctx, target.get("storageClassName"))
    if not src_sc or not dst_sc or src_sc.get("provisioner") != dst_sc.get("provisioner"):
        return "IncompatibleProvisioners"
    if volume_mode(src) != (target.get("volumeMode") or "Filesystem"):
        return "IncompatibleVolumeModes"
    target_size = parse_quantity(target["resources"]["requests"]["storage"])
    if target_size > requested_bytes(src) and not dst_sc.get("allowVolumeExpansion"):
        return "NoVolumeExpansion"
    if strategy == "snapshot" and not snapshot_class_for(ctx, src_sc["provisioner"]):
        return "NoVolumeSnapshotClass"
    return None


def _class(ctx: LabContext, name: str | None) -> Obj | None:
    return ctx.store.try_get("storage.k8s.io/storageclasses", None, name or "")


def snapshot_class_for(ctx: LabContext, driver: str) -> str | None:
    classes = ctx.store.list("snapshot.storage.k8s.io/volumesnapshotclasses")[0]
    for vsclass in classes:
        if vsclass.get("driver") == driver:
            return str(vsclass["metadata"]["name"])
    return None
