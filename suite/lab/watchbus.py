"""Watch events and the per-watcher queues the store fans them out to.

A watcher is an async iterator of `WatchEvent`s. A slow consumer never blocks the
store: its queue is unbounded, and `close()` ends the iteration.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .resources import ResourceType


@dataclass(frozen=True)
class WatchEvent:
    """One change: type is ADDED, MODIFIED, DELETED (or BOOKMARK from the HTTP layer)."""

    type: str
    object: dict[str, Any]
    resource_version: int
    resource: ResourceType

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "object": self.object}


def clone(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, scalars), several times faster than
    `copy.deepcopy`, which the store's every read and write pays for. Anything else
    (a tuple, a datetime) is still copied with `copy.deepcopy`."""
    kind = type(value)
    if kind is dict:
        return {k: clone(v) for k, v in value.items()}
    if kind is list:
        return [clone(v) for v in value]
    if kind in _IMMUTABLE:
        return value
    return copy.deepcopy(value)


_IMMUTABLE = frozenset({str, int, float, bool, type(None)})
_CLOSED = object()


class Watcher:
    """Receives the events of one resource type that match its filters."""

    def __init__(
        self,
        resource: ResourceType,
        namespace: str | None,
        predicate: Callable[[dict[str, Any]], bool],
        on_close: Callable[[Watcher], None],
    ) -> None:
        self.resource = resource
        self.namespace = namespace
        self.predicate = predicate
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._on_close = on_close
        self.closed = False

    def wants(self, event: WatchEvent) -> bool:
        if event.resource.key != self.resource.key:
            return False
        meta = event.object.get("metadata", {})
        if self.namespace and meta.get("namespace") != self.namespace:
            return False
        return self.predicate(event.object)

    def push(self, event: WatchEvent) -> None:
        if not self.closed:
            self._queue.put_nowait(
                WatchEvent(event.type, clone(event.object), event.resource_version,
                           event.resource))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._queue.put_nowait(_CLOSED)
            self._on_close(self)

    def pending(self) -> int:
        return self._queue.qsize()

    def __aiter__(self) -> Watcher:
        return self

    async def __anext__(self) -> WatchEvent:
        item = await self._queue.get()
        if item is _CLOSED:
            raise StopAsyncIteration
        return item

    async def next(self, timeout_s: float | None = None) -> WatchEvent | None:
        """The next event, or None on close or when timeout_s passes first."""
        try:
            item = await asyncio.wait_for(self._queue.get(), timeout_s)
        except TimeoutError:
            return None
        return None if item is _CLOSED else item
