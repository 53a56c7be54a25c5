"""The lab's one controller primitive: watches feed a per-key-serialised work queue.

Modelled on client-go's informer + workqueue (k8s.io/client-go/util/workqueue): a watch
event only says "look at this key again", so a missed or coalesced event never loses
state (the controllers are level-triggered). The queue guarantees what client-go's does:

- a key is never reconciled twice at once; a key added while it runs is marked dirty
  and runs once more afterwards (adds while queued coalesce into one run);
- `add_after` is a requeue-after; of several pending delays the earliest wins;
- a reconcile that returns seconds is requeued after them, as `Result{RequeueAfter}`;
- a key whose reconcile keeps failing is rate-limited per item, as client-go's
  `AddRateLimited` with its exponential failure limiter: 1 s, 2 s, 4 s ... up to 30 s,
  forgotten at its first success.

`workers` is the controller's choice, like `Run(workers)` in client-go: the compute
controllers use one worker (their reconciles share guest state), the storage ones a task
per key, because one slow data-plane call must not hold up every other volume.

API errors are expected races (conflicts, deletions under us); `ApiErrorPolicy` says how
a controller retries them. Any other exception is a controller bug: it is kept in
`ctx.errors` (served at /lab/errors) and the key is retried, so the lab keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from .errors import ApiError

if TYPE_CHECKING:
    from .context import LabContext

log = logging.getLogger("suite.lab.controller")

Key = tuple[str | None, str]
Reconcile = Callable[[Key], Awaitable[float | None]]
KeysFor = Callable[[dict[str, Any]], Iterable[Key]]
ApiErrorPolicy = Callable[[ApiError], "tuple[float | None, bool]"]
"""Maps an API error to (requeue after seconds or None, whether to report it); a
reported error is a failure, retried by the rate limiter instead."""

CRASH_RETRY_S = 1.0  # the first retry after a failure; doubles per failure in a row
MAX_BACKOFF_S = 30.0


def key_of(obj: dict[str, Any]) -> Key:
    """An object's own key: (namespace or None for cluster-scoped, name)."""
    meta = obj.get("metadata", {})
    return (meta.get("namespace"), meta["name"])


def own_key(obj: dict[str, Any]) -> list[Key]:
    """The default mapping of a watch event: the object's own key."""
    return [key_of(obj)]


def by_name(reconcile: Callable[[str, str], Awaitable[float | None]]) -> Reconcile:
    """Adapt a `reconcile(namespace, name)` to the queue's `reconcile(key)`."""
    async def run(key: Key) -> float | None:
        return await reconcile(key[0] or "", key[1])
    return run


def storage_policy(exc: ApiError) -> tuple[float | None, bool]:
    """Conflicts retry at once, a deleted object is left to its own event, the rest report."""
    if exc.code == 409:
        return 0.05, False  # raced with another writer: read again, as controllers do
    if exc.code == 404:
        return None, False
    return None, True  # reported: a failure, retried by the rate limiter


def quiet_retry(exc: ApiError) -> tuple[float | None, bool]:
    """Any API error is a race with another writer or a deletion: look again shortly."""
    return 0.2, False


class Controller:
    """Runs `reconcile(key)` for every key added; at most one run per key at a time."""

    def __init__(self, ctx: LabContext, name: str, reconcile: Reconcile, *,
                 workers: int | None = None,
                 on_api_error: ApiErrorPolicy = storage_policy,
                 backoff_s: tuple[float, float] = (CRASH_RETRY_S, MAX_BACKOFF_S)) -> None:
        self.ctx, self.name, self.reconcile = ctx, name, reconcile
        self.workers = workers
        self.on_api_error = on_api_error
        self.backoff_s = backoff_s
        self._failures: dict[Key, int] = {}  # failures in a row, per key
        self._dirty: set[Key] = set()        # wants a run (queued, or again after this one)
        self._processing: set[Key] = set()   # running now
        self._ready: asyncio.Queue[Key] = asyncio.Queue()
        self._timers: dict[Key, tuple[float, asyncio.TimerHandle]] = {}

    def watch(self, ref: str, keys_for: KeysFor = own_key) -> None:
        """Feed the queue from a watch on `ref`, mapping each event to keys."""
        self.ctx.spawn(self._watch(ref, keys_for), f"{self.name}-watch-{ref}")

    def start(self) -> None:
        """Start the worker tasks (a no-op with a task per key)."""
        for i in range(self.workers or 0):
            self.ctx.spawn(self._work(), f"{self.name}-worker-{i}")

    def add(self, key: Key) -> None:
        if key in self._dirty:
            return  # already waiting for a run: coalesce
        self._dirty.add(key)
        if key not in self._processing:
            self._dispatch(key)

    def add_after(self, key: Key, delay_s: float) -> None:
        if delay_s <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        due = loop.time() + delay_s
        pending = self._timers.get(key)
        if pending is not None:
            if pending[0] <= due:
                return  # an earlier requeue is already set
            pending[1].cancel()
        self._timers[key] = (due, loop.call_later(delay_s, self._fire, key))

    def when(self, key: Key) -> float:
        """The rate limiter: the delay before retrying a key that failed again."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        base, cap = self.backoff_s
        return min(base * 2 ** failures, cap)

    def forget(self, key: Key) -> None:
        """The key succeeded: its next failure starts the backoff afresh."""
        self._failures.pop(key, None)

    def close(self) -> None:
        """Cancel pending requeues (the watches and workers stop with the context)."""
        for _, timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _fire(self, key: Key) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def _dispatch(self, key: Key) -> None:
        if self.workers:
            self._ready.put_nowait(key)
        else:
            self.ctx.spawn(self._process(key), f"{self.name}:{key[0]}/{key[1]}")

    async def _watch(self, ref: str, keys_for: KeysFor) -> None:
        watcher = self.ctx.store.watch(ref)
        try:
            async for event in watcher:
                for key in keys_for(event.object):
                    self.add(key)
        finally:
            watcher.close()

    async def _work(self) -> None:
        while True:
            await self._process(await self._ready.get())

    async def _process(self, key: Key) -> None:
        self._processing.add(key)
        self._dirty.discard(key)
        try:
            again = await self._attempt(key)
        finally:
            self._processing.discard(key)
        if again is not None:
            self.add_after(key, again)
        if key in self._dirty:
            self._dispatch(key)  # added while it ran: once more, now

    async def _attempt(self, key: Key) -> float | None:
        try:
            again = await self.reconcile(key)
        except ApiError as exc:
            again, report = self.on_api_error(exc)
            if not report:
                log.debug("%s %s: %s", self.name, key, exc.message)
                return again
            self._report(key, exc)
            return self.when(key)
        except Exception as exc:  # a controller bug: surface it, then keep serving
            self._report(key, exc)
            return self.when(key)
        self.forget(key)
        return again

    def _report(self, key: Key, exc: BaseException) -> None:
        text = "".join(traceback.format_exception(exc))
        self.ctx.errors.append(f"{self.name} {key}: {text}")
        log.error("%s reconcile %s failed:\n%s", self.name, key, text)
