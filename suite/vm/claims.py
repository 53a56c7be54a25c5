"""Reading claims the way a person debugging storage would: phase, capacity, refusals.

A clean refusal (the driver said no) makes a cell `unsupported`; silence after
acceptance makes it `broken`. Both are read from the objects and Events a real cluster
records (external-provisioner's ProvisioningFailed, external-resizer's
VolumeResizeFailed, PVC resize conditions), never from the driver's declarations.

Only a *final* answer is a refusal. The CSI sidecars retry every error and emit a
Warning each time; the ones they treat as retriable (`isFinalError` in
external-provisioner / external-resizer / external-snapshotter: Canceled,
DeadlineExceeded, Unavailable, ResourceExhausted, Aborted, and errors without a gRPC
code) and the other transient codes (Internal, Unknown) are followed by a success on a
healthy driver, so they only make the wait go on, until its deadline. Final: the
infeasible codes (InvalidArgument, OutOfRange, NotFound: `isInfeasibleError`),
Unimplemented, FailedPrecondition (CSI: the volume must be offline) and AlreadyExists,
`*Infeasible` in `status.allocatedResourceStatuses`, CDI's ErrClaimNotValid, and the
sidecars' own refusals that no retry changes (an offline-only driver and a volume in
use).
"""

from __future__ import annotations

import re
from typing import Any

from suite.cluster.errors import NotFound
from suite.cluster.kube import Kube

PROVISION_REFUSALS = ("ProvisioningFailed", "ErrClaimNotValid")
RESIZE_REFUSALS = ("VolumeResizeFailed", "FileSystemResizeFailed", "ExternalExpandingFailed")
RESIZE_ERROR_CONDITIONS = ("ControllerResizeError", "NodeResizeError")
FINAL_CODES = ("InvalidArgument", "OutOfRange", "NotFound", "Unimplemented",
               "FailedPrecondition", "AlreadyExists")
FINAL_REASONS = ("ErrClaimNotValid",)
# external-resizer: a driver that only expands offline, asked while the volume is in use
FINAL_MESSAGES = ("only supports offline expansion",)
_GRPC_CODE = re.compile(r"rpc error: code = (\w+)")

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


def is_final(reason: str, message: str) -> bool:
    """True when a Warning (reason, message) is a final answer, not one to be retried."""
    if reason in FINAL_REASONS or any(m in message for m in FINAL_MESSAGES):
        return True
    codes = _GRPC_CODE.findall(message)
    return bool(codes) and codes[-1] in FINAL_CODES


def warnings(kube: Kube, obj: Obj, reasons: tuple[str, ...], *, final: bool | None = None
             ) -> list[str]:
    """Messages of Warning events about obj with one of `reasons`, newest last; only the
    final (or only the transient) ones when `final` is given."""
    found = []
    for event in kube.events_for(obj):
        reason, message = event.get("reason", ""), event.get("message", "")
        if event.get("type") != "Warning" or reason not in reasons:
            continue
        if final is None or is_final(reason, message) == final:
            found.append(f"{reason}: {message}".strip())
    return found


def provisioning_refusal(kube: Kube, claim: Obj | None, datavolume: Obj | None) -> str | None:
    """The driver's (or CDI's) final refusal to provision, when one was recorded."""
    for obj in (claim, datavolume):
        if obj is not None:
            found = warnings(kube, obj, PROVISION_REFUSALS, final=True)
            if found:
                return found[-1]
    return None


def last_retry(kube: Kube, objs: list[Obj | None], reasons: tuple[str, ...]) -> str | None:
    """The newest transient Warning about any of objs (evidence when a wait times out)."""
    for obj in objs:
        if obj is not None:
            found = warnings(kube, obj, reasons, final=False)
            if found:
                return found[-1]
    return None


def resize_refusal(kube: Kube, claim: Obj) -> str | None:
    """The resizer's final refusal: an infeasible status, a final error condition, or a
    final Warning event; None while it is still trying."""
    status = claim.get("status") or {}
    for value in (status.get("allocatedResourceStatuses") or {}).values():
        if str(value).endswith("Infeasible"):
            return f"allocatedResourceStatuses: {value}"
    for condition in status.get("conditions") or []:
        if condition.get("type") in RESIZE_ERROR_CONDITIONS and condition.get("status") == "True" \
                and is_final(condition["type"], condition.get("message", "")):
            return f"{condition['type']}: {condition.get('message', '')}".strip()
    found = warnings(kube, claim, RESIZE_REFUSALS, final=True)
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
