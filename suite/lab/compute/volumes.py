"""A VMI's persistent disks as the node sees them: claims, volumes, attachments.

This is the kubelet / attach-detach-controller side of the lab: it finds the PVC (and
PV) behind each VMI volume, asks the CSI attacher for the volume on a node by creating
a VolumeAttachment named the way Kubernetes names it, refuses a second node for a
volume that is not shared (the Multi-Attach error), and builds the VMI's volumeStatus.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..objects import attachments_of

if TYPE_CHECKING:
    from ..store import Store

ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
SHARED = "ReadWriteMany"


@dataclass(frozen=True)
class Disk:
    """One VMI volume backed by a claim (persistentVolumeClaim or dataVolume)."""

    volume: str
    claim: str
    serial: str | None
    from_dv: bool
    target: str


def disks_of(spec: dict[str, Any]) -> list[Disk]:
    """The claim-backed disks of a VMI spec, in device order (vda, vdb, ...)."""
    devices = spec.get("domain", {}).get("devices", {}).get("disks", [])
    serials = {d["name"]: d.get("serial") for d in devices}
    order = {d["name"]: i for i, d in enumerate(devices)}
    found = []
    for volume in spec.get("volumes", []):
        source = volume.get("persistentVolumeClaim") or volume.get("dataVolume")
        if source is None:
            continue
        claim = source.get("claimName") or source.get("name")
        found.append((order.get(volume["name"], 99), volume["name"], claim,
                      "dataVolume" in volume))
    found.sort()
    return [Disk(name, claim, serials.get(name), dv, _target(i))
            for i, (_, name, claim, dv) in enumerate(found)]


def _target(index: int) -> str:
    return "vd" + "abcdefghijklmnopqrstuvwxyz"[index % 26]


def attachment_name(handle: str, driver: str, node: str) -> str:
    """Kubernetes' VolumeAttachment name: csi-<sha256(volumeHandle + driver + node)>."""
    return "csi-" + hashlib.sha256(f"{handle}{driver}{node}".encode()).hexdigest()


def pv_of(store: Store, pvc: dict[str, Any]) -> dict[str, Any] | None:
    name = pvc.get("spec", {}).get("volumeName")
    return store.try_get("persistentvolumes", None, name) if name else None


def csi_of(pv: dict[str, Any]) -> tuple[str, str]:
    csi = pv.get("spec", {}).get("csi", {})
    return csi.get("volumeHandle", ""), csi.get("driver", "")


def is_shared(pvc: dict[str, Any]) -> bool:
    return SHARED in (pvc.get("spec", {}).get("accessModes") or [])


def attachment(pv: dict[str, Any], node: str) -> dict[str, Any]:
    handle, driver = csi_of(pv)
    return {"metadata": {"name": attachment_name(handle, driver, node)},
            "spec": {"attacher": driver, "nodeName": node,
                     "source": {"persistentVolumeName": pv["metadata"]["name"]}}}


def multi_attach_error(store: Store, pvc: dict[str, Any], pv: dict[str, Any],
                       node: str) -> str | None:
    """The attach-detach controller's refusal for a non-shared volume used elsewhere."""
    if is_shared(pvc):
        return None
    elsewhere = [va for va in attachments_of(store, pv["metadata"]["name"])
                 if va["spec"].get("nodeName") != node]
    if not elsewhere:
        return None
    return (f'Multi-Attach error for volume "{pv["metadata"]["name"]}" Volume is already '
            "exclusively attached to one node and can't be attached to another")


def ensure_attached(store: Store, pv: dict[str, Any], node: str) -> dict[str, Any]:
    """Create (or find) the VolumeAttachment for pv on node; returns it."""
    wanted = attachment(pv, node)
    found = store.try_get("volumeattachments.storage.k8s.io", None,
                          wanted["metadata"]["name"])
    return found or store.create("volumeattachments.storage.k8s.io", wanted)


def attach_state(va: dict[str, Any]) -> tuple[bool, str | None]:
    """(attached, error message) of a VolumeAttachment."""
    status = va.get("status") or {}
    error = (status.get("attachError") or {}).get("message")
    return bool(status.get("attached")), error


def detach(store: Store, pv_name: str, node: str) -> None:
    for va in attachments_of(store, pv_name):
        if va["spec"].get("nodeName") == node and not va["metadata"].get("deletionTimestamp"):
            store.delete("volumeattachments.storage.k8s.io", None, va["metadata"]["name"])


def claim_info(pvc: dict[str, Any], overhead: str) -> dict[str, Any]:
    spec, status = pvc.get("spec", {}), pvc.get("status", {})
    mode = spec.get("volumeMode") or "Filesystem"
    info = {"claimName": pvc["metadata"]["name"], "accessModes": spec.get("accessModes", []),
            "volumeMode": mode, "capacity": status.get("capacity", {}),
            "requests": spec.get("resources", {}).get("requests", {}),
            "filesystemOverhead": "0" if mode == "Block" else overhead}
    return info


def volume_status(disks: list[Disk], pvcs: dict[str, dict[str, Any]],
                  spec: dict[str, Any], overhead: str = "0.055") -> list[dict[str, Any]]:
    """VMI status.volumeStatus: one entry per volume, sorted by name."""
    by_volume = {d.volume: d for d in disks}
    entries = []
    for volume in spec.get("volumes", []):
        entry: dict[str, Any] = {"name": volume["name"], "target": ""}
        disk = by_volume.get(volume["name"])
        if disk is not None:
            entry["target"] = disk.target
            if disk.claim in pvcs:
                entry["persistentVolumeClaimInfo"] = claim_info(pvcs[disk.claim], overhead)
        entries.append(entry)
    return sorted(entries, key=lambda e: e["name"])
