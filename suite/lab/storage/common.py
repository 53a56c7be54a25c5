"""Shared vocabulary of the storage controllers: quantities, names, finalizers, lookups.

Annotation and finalizer names are the real projects' (kubernetes, external-provisioner,
external-snapshotter, CDI), because clients and the suite read them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# One quantity parser for the suite and the lab (a leaf module of the suite).
from suite.quantity import format_quantity as format_quantity
from suite.quantity import parse_quantity as parse_quantity

from ..clock import now_rfc3339
from ..drivers import DriverProfile

if TYPE_CHECKING:
    from ..context import LabContext

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


def add_finalizer(obj: Obj, name: str) -> None:
    fins = obj["metadata"].setdefault("finalizers", [])
    if name not in fins:
        fins.append(name)


def remove_finalizer(obj: Obj, name: str) -> None:
    obj["metadata"]["finalizers"] = [f for f in obj["metadata"].get("finalizers") or []
                                     if f != name]


def requested_bytes(pvc: Obj) -> int:
    requests = ((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}
    return parse_quantity(requests.get("storage", "0"))


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


def fs_overhead(ctx: LabContext, storage_class: str | None = None) -> float:
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
