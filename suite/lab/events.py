"""Kubernetes Events, recorded by the lab's controllers the way client-go's recorder does.

Repeated events (same object, reason and message) bump `count` and `lastTimestamp`
instead of piling up, as the real event correlator does.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from .clock import now_rfc3339

if TYPE_CHECKING:
    from .store import Store


def record_event(store: Store, involved: dict[str, Any], reason: str, message: str, *,
                 type_: str = "Normal", component: str = "lab") -> dict[str, Any]:
    """Create (or bump) an Event about `involved` in its namespace ('default' if cluster-scoped)."""
    meta = involved.get("metadata", {})
    namespace = meta.get("namespace") or "default"
    for existing in store.list("events", namespace, copies=False)[0]:
        ref = existing.get("involvedObject", {})
        if (ref.get("uid") == meta.get("uid") and existing.get("reason") == reason
                and existing.get("message") == message):
            def bump(e: dict[str, Any]) -> None:
                e["count"] = e.get("count", 1) + 1
                e["lastTimestamp"] = now_rfc3339()
            return store.mutate("events", namespace, existing["metadata"]["name"], bump)
    now = now_rfc3339()
    event = {
        "metadata": {"name": f"{meta.get('name', 'object')}.{uuid.uuid4().hex[:16]}",
                     "namespace": namespace},
        "involvedObject": {k: v for k, v in {
            "kind": involved.get("kind"), "apiVersion": involved.get("apiVersion"),
            "name": meta.get("name"), "namespace": meta.get("namespace"),
            "uid": meta.get("uid"), "resourceVersion": meta.get("resourceVersion"),
        }.items() if v},
        "reason": reason, "message": message, "type": type_, "count": 1,
        "firstTimestamp": now, "lastTimestamp": now, "eventTime": None,
        "source": {"component": component}, "reportingComponent": component,
        "reportingInstance": "", "action": "",
    }
    return store.create("events", event)
