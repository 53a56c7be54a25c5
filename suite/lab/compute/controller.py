"""A tiny level-triggered controller: watches feed a de-duplicated queue of keys.

Each compute controller (VM, VMI, migration, snapshot, restore, pods) is a `reconcile`
function of (namespace, name) that reads the store and moves the object one step on.
Watches on related types only say "look at this key again", like client-go's
work queues, so a missed or coalesced event never loses state.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from ..errors import ApiError

log = logging.getLogger("suite.lab.compute")

Key = tuple[str, str]
Reconcile = Callable[[str, str], Awaitable[float | None]]
KeysFor = Callable[[dict[str, Any]], Iterable[Key]]


def own_key(obj: dict[str, Any]) -> Iterable[Key]:
    meta = obj.get("metadata", {})
    return [(meta.get("namespace") or "", meta["name"])]


class Controller:
    """Runs `reconcile` for queued keys, one at a time; a float result requeues after it."""

    def __init__(self, ctx: Any, name: str, reconcile: Reconcile) -> None:
        self.ctx = ctx
        self.name = name
        self.reconcile = reconcile
        self._queue: asyncio.Queue[Key] = asyncio.Queue()
        self._queued: set[Key] = set()
        self._timers: dict[Key, asyncio.TimerHandle] = {}

    def watch(self, ref: str, keys_for: KeysFor = own_key) -> None:
        self.ctx.spawn(self._watch(ref, keys_for), f"{self.name}-watch-{ref}")

    def enqueue(self, key: Key, delay_s: float = 0.0) -> None:
        if delay_s > 0:
            old = self._timers.pop(key, None)
            if old:
                old.cancel()
            loop = asyncio.get_running_loop()
            self._timers[key] = loop.call_later(delay_s, self.enqueue, key)
            return
        if key not in self._queued:
            self._queued.add(key)
            self._queue.put_nowait(key)

    def start(self) -> None:
        self.ctx.spawn(self._work(), f"{self.name}-worker")

    async def _watch(self, ref: str, keys_for: KeysFor) -> None:
        watcher = self.ctx.store.watch(ref)
        try:
            async for event in watcher:
                for key in keys_for(event.object):
                    self.enqueue(key)
        finally:
            watcher.close()

    async def _work(self) -> None:
        while True:
            key = await self._queue.get()
            self._queued.discard(key)
            try:
                again = await self.reconcile(*key)
            except ApiError as exc:
                # conflicts and races with deletion are normal; look again shortly
                log.debug("%s %s: %s", self.name, key, exc.message)
                again = 0.2
            except Exception:  # a bug: surface it at /lab/errors, keep serving
                log.exception("%s failed on %s", self.name, key)
                self.ctx.errors.append(f"{self.name} {key}: {traceback.format_exc()}")
                again = 1.0
            if again is not None:
                self.enqueue(key, again)
