"""A class-wide transfer budget: concurrent host-assisted copies share one pipe.

CDI's host-assisted clone (`copy` strategy) streams the source through a source pod
and an upload pod: the bytes cross the node's I/O path, so a class's bandwidth limit
applies to them and every copy running at the same time on the class shares it. A
CSI clone (`csi-clone`) or a snapshot restore happens inside the storage and moves no
bytes through a host. The lab's copies are local `cp` runs that would finish in
milliseconds whatever the strategy; charging a host-assisted copy's bytes to its
class's budget makes `copy` slower than `csi-clone` by construction, and makes ten
clones started at once on a limited class wait for each other as on a real array.

Unlimited classes still pay a host stream rate (`HOST_STREAM_MIBS`): a pod-to-pod
copy over the cluster network is never free.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

HOST_STREAM_MIBS = 256.0  # an unlimited class's host-assisted copy rate, MiB/s
MIB = 1024 * 1024


class Budget:
    """One class's bandwidth, shared first-come first-served by its copies."""

    def __init__(self, bytes_per_s: float) -> None:
        self.bytes_per_s = bytes_per_s
        self._free_at = 0.0  # monotonic time when the pipe is next free
        self._lock = asyncio.Lock()

    async def charge(self, nbytes: int) -> float:
        """Wait until `nbytes` could have crossed the pipe; returns the seconds waited."""
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._free_at)
            self._free_at = start + nbytes / self.bytes_per_s
            done_at = self._free_at
        wait = max(0.0, done_at - time.monotonic())
        if wait:
            await asyncio.sleep(wait)
        return wait


class Budgets:
    """The lab's budgets by class name (created on first use)."""

    def __init__(self) -> None:
        self._by_class: dict[str, Budget] = {}

    def for_class(self, name: str, limits: Mapping[str, Any] | None) -> Budget:
        if name not in self._by_class:
            self._by_class[name] = Budget(rate_bytes(limits))
        return self._by_class[name]


def rate_bytes(limits: Mapping[str, Any] | None) -> float:
    """The class's bandwidth limit in bytes/s, else the host stream rate."""
    limit = (limits or {}).get("bandwidthMiBs")
    mibs = min(float(limit), HOST_STREAM_MIBS) if limit else HOST_STREAM_MIBS
    return mibs * MIB
