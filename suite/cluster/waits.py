"""Waiting for an object to reach a state: list, then watch from the list's version.

One deadline per wait. The predicate is a function of the object returning True (done),
False (keep waiting) or a string (give up now, with that reason). A watch the server
ends (its timeout, or a load balancer cutting it) is resumed from the last
resourceVersion seen, as client-go's reflector does; 410 Gone re-lists at once; a watch
that cannot be had (429/5xx, no reply) re-lists after a pause (the server's Retry-After
when it gave one), which is also the polling fallback for servers whose watches misbehave.

Waits that cannot watch (a guest's answer, a pod's log, a subresource-only API) poll with
:func:`poll_until`, the one polling loop of the suite: it sleeps by waiting on the run's
cancel Event, so Ctrl-C ends every wait at once with ``Cancelled`` instead of being
waited out by the session's join.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from suite.cluster.errors import Cancelled, Gone, KubeError, WaitFailed, WaitTimeout
from suite.cluster.transport import Resource, Transport

Predicate = Callable[[dict[str, Any]], "bool | str"]
T = TypeVar("T")
POLL_PAUSE_S = 1.0
# A watch request never outlives this, so a cancelled run stops waiting promptly.
MAX_WATCH_S = 20
# A watch ending sooner than this with no event is treated as broken, not resumed.
QUICK_END_S = 0.5


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


class _StreamBroken(Exception):
    """The server sent an ERROR event other than 410: fall back to listing."""


def _watch(waiter: _Waiter, rv: str, predicate: Predicate | None) -> tuple[bool, str]:
    """Follow events until done (True) or the stream ends (False); also returns the
    last resourceVersion seen, to resume from."""
    for event in waiter.watch_events(rv):
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise Gone(410, "Expired", str(obj.get("message", "")))
            raise _StreamBroken(str(obj.get("message", "")))
        rv = str((obj.get("metadata") or {}).get("resourceVersion") or rv)
        if kind == "BOOKMARK":
            continue
        current = None if kind == "DELETED" else obj
        if current is not None:
            waiter.last = current
        if _judge(current, predicate, waiter):
            return True, rv
        waiter.check_cancel()
        if waiter.remaining() <= 0:
            break
    return False, rv


def _follow(waiter: _Waiter, rv: str, predicate: Predicate | None) -> bool:
    """Watch from `rv`, resuming from the last version each time the server ends the
    stream; a stream that ends at once without news falls back to listing."""
    while waiter.remaining() > 0:
        started = time.monotonic()
        done, new_rv = _watch(waiter, rv, predicate)
        if done:
            return True
        waiter.check_cancel()
        if new_rv == rv and time.monotonic() - started < QUICK_END_S:
            return False  # an unusable watch: list again after a pause
        rv = new_rv
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
        pause = POLL_PAUSE_S
        try:
            if _follow(waiter, rv, predicate):
                return waiter.last if predicate else None
        except Gone:
            continue  # relist at once: our version left the server's history
        except _StreamBroken:
            pass
        except KubeError as error:  # watch unusable right now: fall back to polling
            pause = max(pause, error.retry_after_s or 0.0)
        sleep(min(pause, max(0.0, waiter.remaining())), waiter.cancel, waiter.what)
    raise WaitTimeout(waiter.what, waiter.timeout_s, waiter.last)


def sleep(seconds: float, cancel: threading.Event | None, what: str) -> None:
    """Pause ``seconds``, waking at once when the run is cancelled (then ``Cancelled``).

    ``cancel=None`` is for cleanup, which must run to its end even after Ctrl-C."""
    if cancel is None:
        time.sleep(seconds)
    elif cancel.wait(seconds):
        raise Cancelled(f"run interrupted while waiting for {what}")


def poll_until(sample: Callable[[], T], done: Callable[[T], bool], *,
               timeout_s: float | None, interval_s: float, what: str,
               cancel: threading.Event | None, last_on_timeout: bool = False,
               clock: Callable[[], float] = time.monotonic) -> T:
    """Call ``sample()`` until ``done(value)``, every ``interval_s``; returns that value.

    A sample taken after the deadline is the last one: then the wait raises
    ``WaitTimeout`` naming ``what``, or, with ``last_on_timeout``, returns that last
    value for the caller to judge (most checks turn a wait that ran out into a verdict
    of their own). ``timeout_s=None`` is for a sample that ends the wait itself (it
    raises, e.g. a VM boot's own bind and boot deadlines). Exceptions from ``sample``
    propagate. A set ``cancel`` raises ``Cancelled`` before a sample and mid-pause.
    """
    deadline = None if timeout_s is None else clock() + timeout_s
    while True:
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"run interrupted while waiting for {what}")
        value = sample()
        if done(value):
            return value
        if deadline is not None and clock() > deadline:
            if last_on_timeout:
                return value
            raise WaitTimeout(what, timeout_s or 0.0, None)
        sleep(interval_s, cancel, what)
