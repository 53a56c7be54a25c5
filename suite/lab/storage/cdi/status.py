"""DataVolume status as CDI writes it: phase, progress, restartCount, and the Bound /
Ready / Running conditions with CDI's reasons (datavolume/conditions.go), plus events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ... import conditions as cond
from ...conditions import CDI_SHAPE
from ...events import record_event
from ..common import Obj

if TYPE_CHECKING:
    from ...context import LabContext

DV = "cdi.kubevirt.io/datavolumes"
COMPONENT = "datavolume-controller"


def bound_condition(pvc: Obj | None) -> tuple[str, str, str]:
    if pvc is None:
        return "False", "NotFound", "No PVC found"
    name, phase = pvc["metadata"]["name"], (pvc.get("status") or {}).get("phase", "Pending")
    if phase == "Bound":
        return "True", "Bound", f"PVC {name} Bound"
    if phase == "Lost":
        return "False", "ClaimLost", "Claim Lost"
    return "False", "Pending", f"PVC {name} Pending"


def write_status(ctx: LabContext, dv: Obj, pvc: Obj | None, phase: str, *,
                 progress: str | None = None,
                 running: tuple[str, str, str] = ("False", "", "")) -> Obj:
    """Set phase and conditions; an event for each phase the DV enters."""
    old_phase = (dv.get("status") or {}).get("phase")

    def change(obj: Obj) -> None:
        status = obj.setdefault("status", {}) or {}
        obj["status"] = status
        status["phase"] = phase
        if pvc is not None:
            status["claimName"] = pvc["metadata"]["name"]
        if progress is not None:
            status["progress"] = progress
        status.setdefault("progress", "N/A")
        status.setdefault("restartCount", 0)
        conditions = status["conditions"] = status.get("conditions") or []
        ready = "True" if phase == "Succeeded" else "False"
        ready_reason = "TransferRunning" if running[0] == "True" else ""
        for type_, args in (("Bound", bound_condition(pvc)), ("Ready", (ready, ready_reason)),
                            ("Running", running)):
            cond.put(conditions, type_, *args, **CDI_SHAPE)

    meta = dv["metadata"]
    updated = ctx.store.mutate(DV, meta["namespace"], meta["name"], change)
    if phase != old_phase:
        updated = _copy_claim_annotations(ctx, updated, pvc)
    return updated


def _copy_claim_annotations(ctx: LabContext, dv: Obj, pvc: Obj | None) -> Obj:
    """CDI mirrors the clone annotations of the target claim onto the DataVolume."""
    from .annotations import ANN_CLONE_FALLBACK, ANN_CLONE_TYPE

    wanted = {k: v for k, v in ((pvc or {}).get("metadata", {}).get("annotations") or {}).items()
              if k in (ANN_CLONE_TYPE, ANN_CLONE_FALLBACK)}
    current = dv["metadata"].get("annotations") or {}
    if all(current.get(k) == v for k, v in wanted.items()):
        return dv
    meta = dv["metadata"]
    return ctx.store.mutate(DV, meta["namespace"], meta["name"],
                            lambda o: o["metadata"].setdefault("annotations", {}).update(wanted))


def event(ctx: LabContext, obj: Obj, reason: str, message: str, type_: str = "Normal") -> None:
    record_event(ctx.store, obj, reason, message, type_=type_, component=COMPONENT)
