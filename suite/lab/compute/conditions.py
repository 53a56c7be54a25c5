"""Condition lists as KubeVirt keeps them: one entry per type, transition time kept
while the status does not change, probe times only where KubeVirt sets them."""

from __future__ import annotations

from typing import Any

from ..clock import now_rfc3339

Conditions = list[dict[str, Any]]


def get(conditions: Conditions | None, type_: str) -> dict[str, Any] | None:
    return next((c for c in conditions or [] if c.get("type") == type_), None)


def is_true(conditions: Conditions | None, type_: str) -> bool:
    found = get(conditions, type_)
    return found is not None and found.get("status") == "True"


def put(conditions: Conditions, type_: str, status: str, reason: str = "",
        message: str = "", probe: bool = True) -> Conditions:
    """Set a condition in place (and return the list)."""
    old = get(conditions, type_)
    entry: dict[str, Any] = {"type": type_, "status": status}
    if probe:
        entry["lastProbeTime"] = None
    if old is not None and old.get("status") == status:
        entry["lastTransitionTime"] = old.get("lastTransitionTime") or now_rfc3339()
    else:
        entry["lastTransitionTime"] = now_rfc3339()
    if reason:
        entry["reason"] = reason
    if message:
        entry["message"] = message
    if old is not None:
        conditions[conditions.index(old)] = entry
    else:
        conditions.append(entry)
    return conditions


def drop(conditions: Conditions, type_: str) -> Conditions:
    conditions[:] = [c for c in conditions if c.get("type") != type_]
    return conditions


def owner_ref(obj: dict[str, Any], controller: bool = True) -> dict[str, Any]:
    meta = obj["metadata"]
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": meta["name"],
            "uid": meta["uid"], "controller": controller, "blockOwnerDeletion": True}
