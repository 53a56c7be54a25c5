"""Shared vocabulary of the storage controllers: quantities, names, conditions, lookups.

Annotation and finalizer names are the real projects' (kubernetes, external-provisioner,
external-snapshotter, CDI), because clients and the suite read them.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..clock import now_rfc3339
from ..drivers import DriverProfile

Obj = dict[str, Any]

# kubernetes / external-provisioner
ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
ANN_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
FIN_PVC_PROTECTION = "kubernetes.io/pvc-protection"
FIN_PV_PROTECTION = "kubernetes.io/pv-protection"
FIN_PROVISIONER_DELETE = "external-provisioner.volume.kubernetes.io/finalizer"
ANN_DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
ANN_DEFAULT_VIRT_CLASS = "storageclass.kubevirt.io/is-default-virt-class"

LUKS_SECRET_NAMESPACE = "openshift-cnv"
DEFAULT_FS_OVERHEAD = 0.055

_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
          "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50,
          "Ei": 2**60, "m": 0}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$")


def parse_quantity(value: Any) -> int:
    """Bytes in a Kubernetes quantity ('10Gi', '1G', '1073741824'), rounded up."""
    if isinstance(value, int):
        return value
    match = _QUANTITY.match(str(value).strip())
    if not match or match.group(2) not in _UNITS or match.group(2) == "m":
        raise ValueError(f"quantities must match the regular expression: {value!r}")
    return math.ceil(float(match.group(1)) * _UNITS[match.group(2)])


def format_quantity(size: int) -> str:
    """The canonical form the API server prints: the largest binary unit that divides."""
    for unit in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        if size and size % _UNITS[unit] == 0:
            return f"{size // _UNITS[unit]}{unit}"
    return str(size)


def set_condition(conditions: list[Obj], type_: str, status: str, reason: str = "",
                  message: str = "", *, heartbeat: bool = False) -> list[Obj]:
    """Upsert one condition; times only move when something in it changes, so writing
    the same state twice changes nothing (and wakes no watcher)."""
    now = now_rfc3339()
    for cond in conditions:
        if cond.get("type") != type_:
            continue
        if (cond.get("status"), cond.get("reason"), cond.get("message")) == \
                (status, reason, message):
            return conditions
        if cond.get("status") != status:
            cond["lastTransitionTime"] = now
        cond.update(status=status, reason=reason, message=message)
        if heartbeat:
            cond["lastHeartbeatTime"] = now
        return conditions
    new = {"type": type_, "status": status, "lastTransitionTime": now, "reason": reason,
           "message": message}
    if heartbeat:
        new["lastHeartbeatTime"] = now
    conditions.append(new)
    return conditions


def drop_condition(conditions: list[Obj], type_: str) -> list[Obj]:
    return [c for c in conditions if c.get("type") != type_]


def add_finalizer(obj: Obj, name: str) -> None:
    fins = obj["metadata"].setdefault("finalizers", [])
    if name not in fins:
        fins.append(name)


def remove_finalizer(obj: Obj, name: str) -> None:
    obj["metadata"]["finalizers"] = [f for f in obj["metadata"].get("finalizers") or []
                                     if f != name]


def owner_ref(obj: Obj, *, controller: bool = True) -> Obj:
    meta = obj["metadata"]
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": meta["name"],
            "uid": meta["uid"], "controller": controller, "blockOwnerDeletion": True}


def requested_bytes(pvc: Obj) -> int:
    requests = ((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}
    return parse_quantity(requests.get("storage", "0"))


def attached_pv(va: Obj) -> str:
    """The PersistentVolume a VolumeAttachment names ('' if none)."""
    return ((va.get("spec") or {}).get("source") or {}).get("persistentVolumeName") or ""


def attachments_of(store: Any, pv_name: str) -> list[Obj]:
    """The VolumeAttachments of one PersistentVolume."""
    return store.list("storage.k8s.io/volumeattachments",
                      predicate=lambda va: attached_pv(va) == pv_name)[0]


def volume_mode(pvc_or_pv: Obj) -> str:
    return (pvc_or_pv.get("spec") or {}).get("volumeMode") or "Filesystem"


class Drivers:
    """Lookups from StorageClass name or CSI driver name to the lab driver profile."""

    def __init__(self, drivers: list[DriverProfile]) -> None:
        self.by_class = {d.name: d for d in drivers}
        self.by_provisioner: dict[str, DriverProfile] = {}
        for driver in drivers:
            if driver.is_csi:  # a non-CSI class has no CSI driver behind it
                self.by_provisioner.setdefault(driver.provisioner, driver)

    def for_pvc(self, pvc: Obj) -> DriverProfile | None:
        return self.by_class.get((pvc.get("spec") or {}).get("storageClassName") or "")

    def for_pv(self, pv: Obj) -> DriverProfile | None:
        sc = (pv.get("spec") or {}).get("storageClassName") or ""
        if sc in self.by_class:
            return self.by_class[sc]
        csi = (pv.get("spec") or {}).get("csi") or {}
        return self.by_provisioner.get(csi.get("driver", ""))

    def luks_secret_name(self, driver: DriverProfile) -> str:
        return f"{driver.name}-luks-passphrase"


def fs_overhead(ctx: Any, storage_class: str | None = None) -> float:
    """CDI's filesystemOverhead for a class (per-class override, else global)."""
    cdi = ctx.store.try_get("cdi.kubevirt.io/cdis", None, "cdi-kubevirt-hyperconverged")
    overhead = (((cdi or {}).get("spec") or {}).get("config") or {}).get(
        "filesystemOverhead") or {}
    value = (overhead.get("storageClass") or {}).get(storage_class or "",
                                                       overhead.get("global"))
    return float(value) if value is not None else DEFAULT_FS_OVERHEAD


def pv_phase(phase: str) -> Any:
    """A PV status change as the PV controller writes it (with lastPhaseTransitionTime)."""
    def change(pv: Obj) -> None:
        pv["status"] = {"phase": phase, "lastPhaseTransitionTime": now_rfc3339()}

    return change
