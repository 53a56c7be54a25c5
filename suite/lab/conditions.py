"""Status conditions, one semantics for every lab controller (storage and compute).

As k8s.io/apimachinery's meta.SetStatusCondition: one entry per type; the
lastTransitionTime moves only when the status changes; reason and message always take
the new values. Writing the same condition twice changes nothing (no resourceVersion
bump, no watch event). An entry is replaced, never edited in place, so a caller may keep
comparing the list it read before.

Shapes differ by API, not by helper: KubeVirt's conditions carry `lastProbeTime: null`
(`probe=True`), CDI's a `lastHeartbeatTime` bumped on each change (`heartbeat=True`), and
the storage controllers write empty reason and message as "" (`keep_empty=True`) where
KubeVirt leaves them out.
"""

from __future__ import annotations

from typing import Any, TypedDict

from .clock import now_rfc3339
from .objects import owner_ref

__all__ = ["CDI_SHAPE", "PVC_SHAPE", "Conditions", "Shape", "drop", "get", "is_true",
           "owner_ref", "put"]

Conditions = list[dict[str, Any]]



class Shape(TypedDict, total=False):
    """The keyword arguments of `put` that give one API's condition shape."""
    probe: bool
    heartbeat: bool
    keep_empty: bool


PVC_SHAPE: Shape = {"probe": False, "keep_empty": True}  # core v1, external-resizer
CDI_SHAPE: Shape = {"probe": False, "keep_empty": True, "heartbeat": True}  # DataVolumes


def get(conditions: Conditions | None, type_: str) -> dict[str, Any] | None:
    return next((c for c in conditions or [] if c.get("type") == type_), None)


def is_true(conditions: Conditions | None, type_: str) -> bool:
    found = get(conditions, type_)
    return found is not None and found.get("status") == "True"


def put(conditions: Conditions, type_: str, status: str, reason: str = "",
        message: str = "", *, probe: bool = True, heartbeat: bool = False,
        keep_empty: bool = False) -> Conditions:
    """Set one condition in the list (in place; the list is returned for chaining)."""
    old = get(conditions, type_)
    if old is not None and _same(old, status, reason, message, keep_empty):
        return conditions
    now = now_rfc3339()
    entry: dict[str, Any] = {"type": type_, "status": status}
    if probe:
        entry["lastProbeTime"] = None
    if old is not None and old.get("status") == status:
        entry["lastTransitionTime"] = old.get("lastTransitionTime") or now
    else:
        entry["lastTransitionTime"] = now
    if heartbeat:
        entry["lastHeartbeatTime"] = now
    if reason or keep_empty:
        entry["reason"] = reason
    if message or keep_empty:
        entry["message"] = message
    if old is not None:
        conditions[conditions.index(old)] = entry
    else:
        conditions.append(entry)
    return conditions


def _same(old: dict[str, Any], status: str, reason: str, message: str,
          keep_empty: bool) -> bool:
    """Nothing to write: the same status, reason and message (and the entry's shape)."""
    if (old.get("status"), old.get("reason") or "", old.get("message") or "") != \
            (status, reason, message):
        return False
    if keep_empty:
        return "reason" in old and "message" in old
    return bool(reason) == ("reason" in old) and bool(message) == ("message" in old)


def drop(conditions: Conditions, type_: str) -> Conditions:
    """Remove a condition type (in place; the list is returned for chaining)."""
    conditions[:] = [c for c in conditions if c.get("type") != type_]
    return conditions
