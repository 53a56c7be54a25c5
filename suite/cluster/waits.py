"""Waiting for an object to reach a state: list, then watch from the list's version.

One deadline per wait. The predicate is a function of the object returning True (done),
False (keep waiting) or a string (give up now, with that reason). When a watch cannot be
had (410 Gone, a dropped stream) the wait re-lists after a short pause, which is also the
polling fallback for servers whose watches misbehave.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from suite.cluster.errors import Cancelled, Gone, KubeError, WaitFailed, WaitTimeout
from suite.cluster.transport import Resource, Transport

Predicate = Callable[[dict[str, Any]], "bool | str"]
POLL_PAUSE_S = 1.0
# A watch request never outlives this, so a cancelled run stops waiting promptly.
MAX_WATCH_S = 20


class _Waiter:
    def __init__(self, transport: Transport, resource: Resource, name: str,
                 namespace: str | None, what: str, timeout_s: float,
                 cancel: threading.Event | None):
        self.transport = transport
        self.resource = resource
        self.name = name
        self.namespace = namespace
        self.what = what
        self.timeout_s = timeout_s
        self.deadline = time.monotonic() + timeout_s
        self.last: dict[str, Any] | None = None
        self.cancel = cancel

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled(f"run interrupted while waiting for {self.what}")

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def list_once(self) -> tuple[dict[str, Any] | None, str]:
        reply = self.transport.request(
            "GET", self.resource.path(self.namespace),
            query={"fieldSelector": f"metadata.name={self.name}"}) or {}
        items = reply.get("items") or []
        rv = str((reply.get("metadata") or {}).get("resourceVersion") or "")
        return (items[0] if items else None), rv

    def watch_events(self, rv: str) -> Any:
        seconds = max(1, min(MAX_WATCH_S, int(self.remaining()) + 1))
        query = {"watch": "true", "fieldSelector": f"metadata.name={self.name}",
                 "timeoutSeconds": seconds, "allowWatchBookmarks": "false"}
        if rv:
            query["resourceVersion"] = rv
        return self.transport.stream_lines(self.resource.path(self.namespace), query, seconds + 5)


def _judge(obj: dict[str, Any] | None, predicate: Predicate | None, waiter: _Waiter) -> bool:
    """True when the wait is over; raises WaitFailed when the predicate gives a reason."""
    if predicate is None:  # waiting for the object to be gone
        return obj is None
    if obj is None:
        return False
    verdict = predicate(obj)
    if isinstance(verdict, str):
        raise WaitFailed(waiter.what, verdict, obj)
    return bool(verdict)


def _watch(waiter: _Waiter, rv: str, predicate: Predicate | None) -> bool:
    """Follow events until done (True) or the stream ends / breaks (False)."""
    for event in waiter.watch_events(rv):
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise Gone(410, "Expired", str(obj.get("message", "")))
            return False
        if kind == "BOOKMARK":
            continue
        current = None if kind == "DELETED" else obj
        if current is not None:
            waiter.last = current
        if _judge(current, predicate, waiter):
            return True
        waiter.check_cancel()
        if waiter.remaining() <= 0:
            return False
    return False


def run_wait(transport: Transport, resource: Resource, name: str, namespace: str | None,
             predicate: Predicate | None, timeout_s: float, what: str,
             cancel: threading.Event | None = None) -> dict[str, Any] | None:
    """Wait until ``predicate(obj)`` holds (or, with ``predicate=None``, until obj is gone)."""
    waiter = _Waiter(transport, resource, name, namespace, what, timeout_s, cancel)
    start = time.monotonic()
    try:
        return _loop(waiter, predicate)
    finally:
        transport.stats.add_wait(time.monotonic() - start)


def _loop(waiter: _Waiter, predicate: Predicate | None) -> dict[str, Any] | None:
    while waiter.remaining() > 0:
        waiter.check_cancel()
        obj, rv = waiter.list_once()
        waiter.last = obj if obj is not None else waiter.last
        if _judge(obj, predicate, waiter):
            return obj
        try:
            if _watch(waiter, rv, predicate):
                return waiter.last if predicate else None
        except Gone:
            continue  # relist at once: our version left the server's history
        except KubeError:
            pass  # watch unusable right now: fall back to polling
        time.sleep(min(POLL_PAUSE_S, max(0.0, waiter.remaining())))
    raise WaitTimeout(waiter.what, waiter.timeout_s, waiter.last)
