"""Reading claims the way a person debugging storage would: phase, capacity, refusals.

A clean refusal (the driver said no) makes a cell `unsupported`; silence after
acceptance makes it `broken`. Both are read from the objects and Events a real cluster
records (external-provisioner's ProvisioningFailed, external-resizer's
VolumeResizeFailed, PVC resize conditions), never from the driver's declarations.
"""

from __future__ import annotations

from typing import Any

from suite.cluster.errors import NotFound
from suite.cluster.kube import Kube

PROVISION_REFUSALS = ("ProvisioningFailed", "ErrClaimNotValid")
RESIZE_REFUSALS = ("VolumeResizeFailed", "FileSystemResizeFailed", "ExternalExpandingFailed")
RESIZE_ERROR_CONDITIONS = ("ControllerResizeError", "NodeResizeError")

Obj = dict[str, Any]


def get_claim(kube: Kube, name: str, namespace: str) -> Obj | None:
    try:
        return kube.get("v1", "PersistentVolumeClaim", name, namespace)
    except NotFound:
        return None


def phase(claim: Obj | None) -> str:
    if claim is None:
        return "absent"
    return (claim.get("status") or {}).get("phase") or "Pending"


def capacity(claim: Obj | None) -> str:
    return (((claim or {}).get("status") or {}).get("capacity") or {}).get("storage", "")


def warnings(kube: Kube, obj: Obj, reasons: tuple[str, ...]) -> list[str]:
    """Messages of Warning events about obj with one of `reasons`, newest last."""
    return [f"{e.get('reason')}: {e.get('message', '')}".strip()
            for e in kube.events_for(obj)
            if e.get("type") == "Warning" and e.get("reason") in reasons]


def provisioning_refusal(kube: Kube, claim: Obj | None, datavolume: Obj | None) -> str | None:
    """The driver's (or CDI's) refusal to provision, when one was recorded."""
    for obj in (claim, datavolume):
        if obj is not None:
            found = warnings(kube, obj, PROVISION_REFUSALS)
            if found:
                return found[-1]
    return None


def resize_refusal(kube: Kube, claim: Obj) -> str | None:
    """The resizer's refusal: error conditions, infeasible status, or a Warning event."""
    status = claim.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("type") in RESIZE_ERROR_CONDITIONS and condition.get("status") == "True":
            return f"{condition['type']}: {condition.get('message', '')}".strip()
    for value in (status.get("allocatedResourceStatuses") or {}).values():
        if "Infeasible" in str(value) or "Failed" in str(value):
            return f"allocatedResourceStatuses: {value}"
    found = warnings(kube, claim, RESIZE_REFUSALS)
    return found[-1] if found else None


def volume_handle(kube: Kube, claim: Obj) -> tuple[str, str]:
    """(PV name, CSI volumeHandle) of a bound claim; ('', '') when not a CSI volume."""
    pv_name = (claim.get("spec") or {}).get("volumeName") or ""
    if not pv_name:
        return "", ""
    pv = kube.get("v1", "PersistentVolume", pv_name)
    return pv_name, ((pv.get("spec") or {}).get("csi") or {}).get("volumeHandle", "")


def claim_summary(claim: Obj | None) -> dict[str, Any]:
    """Evidence: what the claim looked like when the verdict was taken."""
    if claim is None:
        return {"phase": "absent"}
    spec, status = claim.get("spec") or {}, claim.get("status") or {}
    return {
        "name": claim["metadata"]["name"],
        "phase": phase(claim),
        "volumeMode": spec.get("volumeMode"),
        "accessModes": spec.get("accessModes"),
        "requested": ((spec.get("resources") or {}).get("requests") or {}).get("storage"),
        "capacity": capacity(claim),
        "volumeName": spec.get("volumeName"),
        "conditions": [f"{c.get('type')}={c.get('status')}" for c in status.get("conditions")
                       or []],
    }
