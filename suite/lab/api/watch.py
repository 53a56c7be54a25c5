"""Watch streams: one JSON event per line over a chunked response, like the API server.

A version that left the history is not an HTTP error: the real server answers 200 and
sends a single ERROR event carrying a 410 Expired Status, which is what client-go and the
Python client's `watch.Watch` expect. Idle streams get BOOKMARK events when asked for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..errors import ApiError
from ..resources import ResourceType
from ..store import Store
from ..watchbus import Watcher
from .responses import JSON, JsonCache, dumps

DEFAULT_TIMEOUT_S = 1800.0


@dataclass
class WatchRequest:
    resource: ResourceType
    namespace: str | None
    resource_version: str | None
    label_selector: str | None
    field_selector: str | None
    timeout_s: float
    bookmarks: bool


def _bookmark(resource: ResourceType, rv: str) -> dict[str, Any]:
    return {"type": "BOOKMARK", "object": {
        "kind": resource.kind, "apiVersion": resource.api_version,
        "metadata": {"resourceVersion": rv}}}


class WatchStreams:
    """Serves watch requests and remembers them so that a stopping lab can end them."""

    def __init__(self, store: Store, bookmark_interval_s: float = 5.0) -> None:
        self.store = store
        self.bookmark_interval_s = bookmark_interval_s
        self.active: set[Watcher] = set()
        self.cache: JsonCache | None = None  # shared with the object handlers
        # Fault seam (`cluster.api.watchCutAfterS`): every stream ends after this long,
        # as behind a load balancer with an idle/total timeout (0: never).
        self.cut_after_s = 0.0
        # Fault seam: called per event sent; returns True when the stream must drop now.
        self.should_drop: Callable[[web.Request, int], bool] = lambda request, sent: False
        # Turns an event's object into what the client asked for (e.g. a Table row).
        self.transform: Callable[[web.Request, ResourceType, dict[str, Any]], Any] = (
            lambda request, resource, obj: obj)

    async def serve(self, request: web.Request, watch: WatchRequest) -> web.StreamResponse:
        response = web.StreamResponse(status=200, headers={"Content-Type": JSON})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            watcher = self.store.watch(
                watch.resource, watch.namespace, resource_version=watch.resource_version,
                label_selector=watch.label_selector, field_selector=watch.field_selector)
        except ApiError as error:
            await self._send(response, {"type": "ERROR", "object": error.status()})
            return response
        self.active.add(watcher)
        try:
            await self._pump(request, response, watcher, watch)
        except (ConnectionResetError, asyncio.CancelledError):
            pass  # the client went away or the lab is stopping: both end the stream
        finally:
            watcher.close()
            self.active.discard(watcher)
        return response

    async def _pump(self, request: web.Request, response: web.StreamResponse,
                    watcher: Watcher, watch: WatchRequest) -> None:
        life = watch.timeout_s
        if self.cut_after_s:
            life = min(life, self.cut_after_s)
        deadline = time.monotonic() + life
        sent = 0
        while not watcher.closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            event = await watcher.next(min(remaining, self.bookmark_interval_s))
            if event is None:
                transport = request.transport
                if transport is None or transport.is_closing():
                    return  # the client left; aiohttp does not cancel idle handlers
                if watch.bookmarks and not watcher.closed:
                    await self._send(response, _bookmark(watch.resource,
                                                         self.store.current_rv()))
                continue
            obj = self.transform(request, watch.resource, event.object)
            encoded = self.cache.encode(obj) if self.cache else dumps(obj).encode()
            await response.write(b'{"type":"%s","object":%s}\n' % (event.type.encode(),
                                                                     encoded))
            sent += 1
            if self.should_drop(request, sent):
                return

    @staticmethod
    async def _send(response: web.StreamResponse, event: dict[str, Any]) -> None:
        await response.write((dumps(event) + "\n").encode())

    def close_all(self) -> None:
        for watcher in list(self.active):
            watcher.close()
