"""Live migration of a QEMU guest, as virt-launcher and virt-handler drive it.

The target virt-launcher's QEMU waits with `-incoming`, the source migrates over QMP
while the guest runs, and virt-launcher's migration monitor (kubevirt
pkg/virt-launcher/virtwrap/live-migration-source.go) polls the job every 400 ms: while
the data remaining keeps falling the copy progresses; a copy that has not progressed for
`progressTimeout` seconds is stuck, and one running longer than `completionTimeoutPerGiB`
times the migrated data in GB (the VMI's memory, rounded up, as getVMIMigrationDataSize)
is not converging. Without post-copy or workload disruption allowed (the lab's
migrationConfiguration), both abort the job: the migration fails with "Live migration
has been aborted" and abortStatus Succeeded. What virt-handler copies from the job into
the VMI's `migrationState` (pkg/virt-handler/migration-source.go, migration-target.go)
is what the controller writes: startTimestamp and mode PreCopy when the copy starts,
targetNodeDomainDetected once the target's domain exists, targetNodeDomainReadyTimestamp
when it runs, then completed (or failed with failureReason).
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ....quantity import parse_quantity
from ..volumes import disks_of
from .guest import QemuGuest, QemuMigrationFailed

ABORTED = "Live migration has been aborted"
DEFAULT_MEMORY = "1Gi"


def failure_reason(desc: str) -> str:
    """virt-handler's failureReason for a migration job QEMU reported failed: libvirt's
    VIR_ERR_OPERATION_FAILED from the QEMU driver ("job 'migration out' failed: <QEMU's
    error-desc>") as MigrateToURI3 returns it to virt-launcher."""
    return ("Live migration failed error encountered during MigrateToURI3 libvirt api "
            "call: virError(Code=9, Domain=10, Message='operation failed: job 'migration "
            f"out' failed: {desc}')")


def migration_data_gb(vmi: dict[str, Any]) -> int:
    """GB of data the migration moves: the guest memory, rounded up to whole GB."""
    domain = vmi["spec"].get("domain", {})
    memory = (domain.get("memory") or {}).get("guest") or \
        (domain.get("resources") or {}).get("requests", {}).get("memory", DEFAULT_MEMORY)
    try:
        size = parse_quantity(memory)
    except ValueError:
        size = parse_quantity(DEFAULT_MEMORY)
    return max(1, math.ceil(size / 10**9))


def data_remaining(info: dict[str, Any]) -> int | None:
    """libvirt's DataRemaining: memory plus disk bytes still to copy, when QEMU says."""
    parts = [info.get(kind, {}).get("remaining") for kind in ("ram", "disk")]
    known = [p for p in parts if isinstance(p, int)]
    return sum(known) if known else None


@dataclass
class ConvergenceMonitor:
    """virt-launcher's legacy convergence rules (no post-copy, no workload disruption):
    abort a stuck copy or one past its completion time. `observe` returns the reason
    (as virt-launcher logs it) when the job must be aborted."""

    progress_timeout_s: float
    completion_timeout_s: float
    clock: Callable[[], float] = time.monotonic
    start: float = field(default=-1.0)
    last_progress: float = field(default=-1.0)
    watermark: int = 0
    abort_reason: str = ""

    def observe(self, info: dict[str, Any]) -> str | None:
        now = self.clock()
        if self.start < 0:
            self.start = self.last_progress = now
        remaining = data_remaining(info)
        if info.get("status") == "active" and remaining is not None:
            if self.watermark == 0 or remaining < self.watermark:
                self.last_progress = now
            self.watermark = remaining
        if self.abort_reason:
            return None  # an abort is in progress
        stuck = now - self.last_progress
        if self.progress_timeout_s and stuck > self.progress_timeout_s:
            self.abort_reason = f"stuck for {int(stuck)} seconds"
        elif self.completion_timeout_s and now - self.start > self.completion_timeout_s:
            self.abort_reason = f"not completed after {int(self.completion_timeout_s)} seconds"
        return self.abort_reason or None


@dataclass
class LabWatch:
    """The controller's hooks at each step of QEMU's migration, and the monitor."""

    on_target_ready: Callable[[], Awaitable[None]]
    on_started: Callable[[], Awaitable[None]]
    monitor: ConvergenceMonitor
    polls: int = 0

    async def target_ready(self) -> None:
        await self.on_target_ready()

    async def started(self) -> None:
        await self.on_started()

    def progress(self, info: dict[str, Any]) -> bool:
        self.polls += 1
        return self.monitor.observe(info) is not None


def monitor_for(vmi: dict[str, Any], config: dict[str, Any]) -> ConvergenceMonitor:
    """The monitor with the migration's configuration (migrationState's)."""
    per_gib = float(config.get("completionTimeoutPerGiB") or 0)
    return ConvergenceMonitor(progress_timeout_s=float(config.get("progressTimeout") or 0),
                              completion_timeout_s=per_gib * migration_data_gb(vmi))


async def target_paths(compute: Any, vmi: dict[str, Any], node: str) -> dict[str, Path]:
    """Each serial disk's device path on the target node (its volumes are attached)."""
    ns = vmi["metadata"]["namespace"]
    paths: dict[str, Path] = {}
    for disk in disks_of(vmi["spec"]):
        if not disk.serial:
            continue
        pvc = compute.store.try_get("persistentvolumeclaims", ns, disk.claim)
        device = await compute.device_path(pvc, node) if pvc else None
        if device is not None:
            paths[disk.serial] = device
    return paths


async def migrate_qemu_guest(compute: Any, vmi: dict[str, Any], guest: QemuGuest,
                             node: str, fail: bool, watch: LabWatch,
                             failed: type[Exception]) -> None:
    """Migrate `guest` to `node` under `watch`; `fail` is the `migration-fails` fault (the
    target dies mid-copy). QEMU's failure raises `failed` with KubeVirt's reason."""
    try:
        await guest.migrate(await target_paths(compute, vmi, node), fail=fail, watch=watch)
    except QemuMigrationFailed as exc:
        raise failed(ABORTED if exc.cancelled else failure_reason(str(exc))) from None
