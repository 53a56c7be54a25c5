"""Small facts about API objects that both halves of the lab need.

`owner_ref` is what a controller puts in the objects it creates (garbage collection,
gc.py, follows it); `attachments_of` is how the CSI attacher, the resizer, PV protection
and KubeVirt's scheduling all find the VolumeAttachments of one PersistentVolume.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import Store

Obj = dict[str, Any]

VOLUME_ATTACHMENTS = "storage.k8s.io/volumeattachments"


def owner_ref(obj: Obj, *, controller: bool = True) -> Obj:
    """An ownerReference to `obj`, as controller-runtime's SetControllerReference."""
    meta = obj["metadata"]
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": meta["name"],
            "uid": meta["uid"], "controller": controller, "blockOwnerDeletion": True}


def attached_pv(va: Obj) -> str:
    """The PersistentVolume a VolumeAttachment names ('' if none)."""
    return ((va.get("spec") or {}).get("source") or {}).get("persistentVolumeName") or ""


def attachments_of(store: Store, pv_name: str) -> list[Obj]:
    """The VolumeAttachments of one PersistentVolume."""
    return store.list(VOLUME_ATTACHMENTS, predicate=lambda va: attached_pv(va) == pv_name)[0]
