"""What every lab component is handed: the store, the state folder, the drivers, the
data plane, the HTTP seam for subresources, and supervised background tasks.

Controllers only use the store's public API and this context; they never import each
other, so the storage half and the compute half of the lab can change independently.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .clusterprofile import ClusterProfile
from .store import Store

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger("suite.lab")

LAB_NODES = ("lab-node-1", "lab-node-2", "lab-node-3")

SubresourceHandler = Callable[["web.Request", "str | None", str], Awaitable["web.StreamResponse"]]
Cleanup = Callable[[], Awaitable[None]]


class HttpSeam:
    """Where components add subresource handlers (console, exec, start, migrate, ...).

    The API server owns routing; it reads `handlers` when a request for
    /apis/<group>/<version>/[namespaces/<ns>/]<plural>/<name>/<subresource> arrives and the
    store cannot serve it itself (anything other than `status`).
    """

    def __init__(self) -> None:
        self.handlers: dict[tuple[str, str, str, str], SubresourceHandler] = {}
        self.extra_groups: dict[str, dict[str, Any]] = {}

    def add_subresource(self, group: str, version: str, plural: str, subresource: str,
                        handler: SubresourceHandler) -> None:
        self.handlers[(group, version, plural, subresource)] = handler

    def find(self, group: str, version: str, plural: str,
             subresource: str) -> SubresourceHandler | None:
        return self.handlers.get((group, version, plural, subresource))

    def add_discovery_group(self, group: str, version: str,
                            resources: list[dict[str, Any]]) -> None:
        """Advertise a group with no stored objects (e.g. subresources.kubevirt.io/v1)."""
        self.extra_groups[f"{group}/{version}"] = {"group": group, "version": version,
                                                   "resources": resources}


@dataclass
class LabContext:
    store: Store
    state_dir: Path
    drivers: list[Any]
    http: HttpSeam = field(default_factory=HttpSeam)
    nodes: tuple[str, ...] = LAB_NODES
    cluster: ClusterProfile = field(default_factory=ClusterProfile)
    dataplane: Any = None
    extras: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _cleanups: list[Cleanup] = field(default_factory=list)

    def __post_init__(self) -> None:
        wanted = self.cluster.schedulable_nodes
        if wanted > len(self.nodes):  # a bigger cluster: more workers, named alike
            self.nodes = tuple(f"lab-node-{i + 1}" for i in range(wanted))

    @property
    def schedulable_nodes(self) -> tuple[str, ...]:
        """The workers that accept VMs; the rest are control-plane nodes (tainted)."""
        return self.nodes[:self.cluster.schedulable_nodes]

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run a controller loop; a crash is logged and kept in `errors`, never silent."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        task.add_done_callback(self._report_crash)
        self._tasks.append(task)
        return task

    def on_stop(self, cleanup: Cleanup) -> None:
        """Register a cleanup; they run last-in first-out, every one even if some fail."""
        self._cleanups.append(cleanup)

    def _report_crash(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        text = "".join(traceback.format_exception(exc))
        self.errors.append(f"{task.get_name()}: {text}")
        log.error("lab task %s crashed:\n%s", task.get_name(), text)

    async def stop(self) -> list[str]:
        """Cancel the loops, then run every cleanup; returns the cleanup errors."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        failures = []
        for cleanup in reversed(self._cleanups):
            try:
                await cleanup()
            except Exception as exc:  # every cleanup runs; all failures are reported
                failures.append(f"{getattr(cleanup, '__qualname__', cleanup)}: {exc!r}")
        return failures
