"""A tiny client-go style work queue: watch events become keys, keys get reconciled.

Why not reconcile inside the watch loop: data-plane calls take a second, and one slow
volume must not hold up every other claim. Each key runs on its own task, never twice at
once; an event arriving mid-reconcile marks the key dirty so it runs again afterwards.
A reconcile may ask to be retried later (return seconds), like a requeue-after.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import ApiError

log = logging.getLogger("suite.lab.storage")

Key = tuple[str | None, str]
Reconcile = Callable[[Key], Awaitable[float | None]]


class WorkQueue:
    """Runs `reconcile(key)` for every key enqueued; at most one run per key at a time."""

    def __init__(self, ctx: Any, name: str, reconcile: Reconcile) -> None:
        self.ctx, self.name, self.reconcile = ctx, name, reconcile
        self._running: set[Key] = set()
        self._dirty: set[Key] = set()
        self._timers: dict[Key, asyncio.TimerHandle] = {}

    def add(self, key: Key) -> None:
        if key in self._running:
            self._dirty.add(key)
            return
        self._running.add(key)
        self.ctx.spawn(self._run(key), f"{self.name}:{key[0]}/{key[1]}")

    def add_after(self, key: Key, delay_s: float) -> None:
        if key in self._timers:
            return
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(delay_s, self._fire, key)

    def _fire(self, key: Key) -> None:
        self._timers.pop(key, None)
        self.add(key)

    async def _run(self, key: Key) -> None:
        try:
            while True:
                self._dirty.discard(key)
                retry = await self._attempt(key)
                if retry is not None:
                    self.add_after(key, retry)
                if key not in self._dirty:
                    break
        finally:
            self._running.discard(key)

    async def _attempt(self, key: Key) -> float | None:
        try:
            return await self.reconcile(key)
        except ApiError as exc:
            if exc.code == 409:
                return 0.05  # raced with another writer: read again, as controllers do
            if exc.code == 404:
                return None  # the object went away under us; its deletion is another event
            self._report(key, exc)
            return 1.0
        except Exception as exc:  # a controller bug: surface it, then keep serving
            self._report(key, exc)
            return 1.0

    def _report(self, key: Key, exc: BaseException) -> None:
        text = "".join(traceback.format_exception(exc))
        self.ctx.errors.append(f"{self.name} {key}: {text}")
        log.error("%s reconcile %s failed:\n%s", self.name, key, text)

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()


def key_of(obj: dict[str, Any]) -> Key:
    meta = obj.get("metadata", {})
    return (meta.get("namespace"), meta["name"])


async def feed(ctx: Any, ref: str, queue: WorkQueue,
               keys: Callable[[dict[str, Any]], list[Key]] | None = None) -> None:
    """Watch `ref` forever and enqueue the keys each event maps to (default: its own)."""
    watcher = ctx.store.watch(ref)
    try:
        async for event in watcher:
            for key in (keys(event.object) if keys else [key_of(event.object)]):
                queue.add(key)
    finally:
        watcher.close()
