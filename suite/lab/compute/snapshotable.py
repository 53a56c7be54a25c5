"""Which VM volumes can be snapshotted: a claim whose StorageClass's driver has a
VolumeSnapshotClass. Shared by the VM status (volumeSnapshotStatuses) and the VM
snapshot controller (included / excluded volumes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..store import Store

VSC = "snapshot.storage.k8s.io/volumesnapshotclasses"


def snapshot_class_for(store: Store, storage_class: str | None) -> str | None:
    """The VolumeSnapshotClass for the class's provisioner (the default one first)."""
    sc = store.try_get("storageclasses.storage.k8s.io", None, storage_class or "")
    if sc is None:
        return None
    classes = [c for c in store.list(VSC)[0] if c.get("driver") == sc.get("provisioner")]
    classes.sort(key=lambda c: (c["metadata"].get("annotations", {}).get(
        "snapshot.storage.kubernetes.io/is-default-class") != "true", c["metadata"]["name"]))
    return classes[0]["metadata"]["name"] if classes else None


def _claim_of(volume: dict[str, Any]) -> str | None:
    source = volume.get("persistentVolumeClaim") or volume.get("dataVolume")
    if source is None:
        return None
    return source.get("claimName") or source.get("name")


def volume_verdict(store: Store, namespace: str, volume: dict[str, Any],
                   templates: dict[str, str]) -> tuple[bool, str]:
    """(enabled, reason) of one volume, with KubeVirt's reason texts."""
    name = volume["name"]
    claim = _claim_of(volume)
    if claim is None:
        return False, f"Snapshot is not supported for this volumeSource type [{name}]"
    pvc = store.try_get("persistentvolumeclaims", namespace, claim)
    storage_class = (pvc or {}).get("spec", {}).get("storageClassName") or templates.get(claim)
    if snapshot_class_for(store, storage_class) is None:
        return False, ("No VolumeSnapshotClass: Volume snapshots are not configured for this "
                       f"StorageClass [{storage_class}] [{name}]")
    return True, ""


def _template_classes(vm: dict[str, Any]) -> dict[str, str]:
    out = {}
    for template in vm.get("spec", {}).get("dataVolumeTemplates") or []:
        spec = template.get("spec", {})
        claim_spec = spec.get("storage") or spec.get("pvc") or {}
        if claim_spec.get("storageClassName"):
            out[template["metadata"]["name"]] = claim_spec["storageClassName"]
    return out


def volume_snapshot_statuses(store: Store, vm: dict[str, Any]) -> list[dict[str, Any]]:
    namespace = vm["metadata"]["namespace"]
    templates = _template_classes(vm)
    out = []
    for volume in vm.get("spec", {}).get("template", {}).get("spec", {}).get("volumes", []):
        enabled, reason = volume_verdict(store, namespace, volume, templates)
        entry: dict[str, Any] = {"name": volume["name"], "enabled": enabled}
        if reason:
            entry["reason"] = reason
        out.append(entry)
    return out
