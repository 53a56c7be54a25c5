"""One qemu-storage-daemon per limited class: all its volumes share one throttle group.

A real array applies a class's QoS to the class: ten VMs on a class limited to 800
IOPS share 800, so a boot storm or parallel fio slows down as N grows. QEMU throttle
groups are per process (a `throttle-group` object lives in one daemon), so the volumes
of a limited class are served by one daemon whose group `tg0` holds the class's
limits, and each volume's graph (file -> raw|luks -> throttle in `tg0` -> FUSE export)
is added and removed at runtime over QMP (qapi/block-core.json `blockdev-add`,
`blockdev-del`, `block_resize`; qapi/block-export.json `block-export-add`,
`block-export-del`). Unlimited classes keep one daemon per volume (daemon.py).

Keys reach the daemon only over its monitor socket: a `secret` object is added with
the key (`object-add`, base64), the LUKS node opens with it, and the object is deleted
at once; the key never goes on a command line or to disk.

Crash handling: if the daemon dies, its exports go stale. The next volume added, or a
volume restarted, finds the process gone, starts a new one and re-adds every volume
it still hosts (stale mounts are cleared first), so one crash costs each volume a
restart rather than its export. The daemon quits when its last volume leaves.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import mounts
from .daemon import DaemonConfig, prepare_export, throttle_options
from .errors import DataPlaneError
from .qsd import MONITOR_ARGS, START_TIMEOUT_S, QsdProcess

GROUP = "tg0"
_EXPORT_GONE_TIMEOUT_S = 5.0

Command = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class SlotNames:
    """QMP ids of one volume's nodes; short, since node names hold at most 31 bytes."""

    prefix: str

    @property
    def file(self) -> str:
        return f"{self.prefix}-file"

    @property
    def format(self) -> str:
        return f"{self.prefix}-fmt"

    @property
    def throttle(self) -> str:
        return f"{self.prefix}-thr"

    @property
    def export(self) -> str:
        return f"{self.prefix}-exp"

    @property
    def secret(self) -> str:
        return f"{self.prefix}-sec"


def graph_commands(config: DaemonConfig, names: SlotNames) -> list[Command]:
    """The QMP commands that serve one volume in the class's daemon, in order."""
    commands: list[Command] = []
    key = config.image.key
    if key is not None:
        commands.append(("object-add", {"qom-type": "secret", "id": names.secret,
                                        "data": base64.b64encode(key).decode(),
                                        "format": "base64"}))
    commands.append(("blockdev-add", {"driver": "file", "node-name": names.file,
                                      "filename": str(config.image.path), "discard": "unmap",
                                      "cache": {"direct": True}}))
    fmt: dict[str, Any] = {"driver": "raw" if key is None else "luks",
                           "node-name": names.format, "file": names.file,
                           "discard": "unmap", "detect-zeroes": "unmap"}
    if key is not None:
        fmt["key-secret"] = names.secret
    commands.append(("blockdev-add", fmt))
    if key is not None:  # LUKS read the key when it opened: drop it from the daemon
        commands.append(("object-del", {"id": names.secret}))
    commands.append(("blockdev-add", {"driver": "throttle", "node-name": names.throttle,
                                      "file": names.format, "throttle-group": GROUP}))
    commands.append(("block-export-add", {"type": "fuse", "id": names.export,
                                          "node-name": names.throttle,
                                          "mountpoint": str(config.export), "writable": True}))
    return commands


class ClassDaemon:
    """The daemon of one limited class and the volumes it serves, by volume name."""

    def __init__(self, group: str, folder: Path, limits: Mapping[str, Any]) -> None:
        if not throttle_options(limits):
            raise DataPlaneError(f"class {group}: a shared daemon needs iops or bandwidth "
                                 "limits")
        self.group = group
        self.limits = dict(limits)
        self.process = QsdProcess(f"class {group}", folder)
        self._slots: dict[str, tuple[DaemonConfig, SlotNames]] = {}
        self._lock = asyncio.Lock()
        self._ids = itertools.count()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def serves(self, name: str) -> bool:
        return name in self._slots and self.process.alive()

    async def add(self, config: DaemonConfig) -> None:
        """Serve a volume: add its graph and wait for the kernel to list its export."""
        async with self._lock:
            if config.name in self._slots:
                raise DataPlaneError(f"volume {config.name}: already served by class "
                                     f"{self.group}'s daemon")
            names = SlotNames(f"v{next(self._ids)}")
            self._slots[config.name] = (config, names)
            try:
                await self._add_or_restart(config, names)
            except BaseException:
                del self._slots[config.name]
                await self._remove_graph(config, names)
                if not self._slots:
                    await self.process.stop()
                raise

    async def _add_or_restart(self, config: DaemonConfig, names: SlotNames) -> None:
        if self.process.alive():
            try:
                await self._add_graph(config, names)
                return
            except DataPlaneError:
                await asyncio.sleep(0.05)  # a daemon killed a moment ago may still be exiting
                if self.process.alive():
                    raise
        await self._restart()  # a new daemon, re-adding every volume (this one too)

    async def remove(self, name: str) -> None:
        """Stop serving a volume (no mount left); the daemon quits with its last volume."""
        async with self._lock:
            entry = self._slots.pop(name, None)
            if entry is not None:
                await self._remove_graph(*entry)
            if not self._slots:
                await self.process.stop()

    async def resize(self, name: str, size: int) -> None:
        """Grow a volume's export: `block_resize` on its throttle node."""
        async with self._lock:
            if name not in self._slots:
                raise DataPlaneError(f"volume {name}: not served by class {self.group}")
            names = self._slots[name][1]
            await self._execute(name, "block_resize",
                                {"node-name": names.throttle, "size": size})

    async def stop(self) -> None:
        """Quit the daemon and make sure none of its exports stays mounted."""
        async with self._lock:
            await self.process.stop()
            for config, _ in self._slots.values():
                if mounts.is_mounted(config.export):
                    mounts.force_unmount(config.export)
            self._slots.clear()

    async def _restart(self) -> None:
        await self.process.stop()  # reap a crashed process, if any
        self.process.folder.mkdir(parents=True, exist_ok=True)
        await self.process.spawn([*MONITOR_ARGS, "--object",
                                  f"throttle-group,id={GROUP},{throttle_options(self.limits)}"])
        for config, names in list(self._slots.values()):
            await self._add_graph(config, names)

    async def _add_graph(self, config: DaemonConfig, names: SlotNames) -> None:
        prepare_export(config.export)  # after a crash: the dead process's mount
        for command, arguments in graph_commands(config, names):
            await self._execute(config.name, command, arguments)
        if not await mounts.wait_mounted(config.export, START_TIMEOUT_S, self.process.alive):
            raise self.process.failure(f"volume {config.name}'s FUSE export never appeared "
                                       "in /proc/mounts")

    async def _remove_graph(self, config: DaemonConfig, names: SlotNames) -> None:
        if self.process.alive():
            with contextlib.suppress(DataPlaneError):
                await self.process.execute("block-export-del", {"id": names.export})
            await self._wait_export_gone(names.export)
            for node in (names.throttle, names.format, names.file):
                with contextlib.suppress(DataPlaneError):
                    await self.process.execute("blockdev-del", {"node-name": node})
            with contextlib.suppress(DataPlaneError):
                await self.process.execute("object-del", {"id": names.secret})
        if mounts.is_mounted(config.export):
            mounts.force_unmount(config.export)

    async def _wait_export_gone(self, export_id: str) -> None:
        """`block-export-del` only starts the removal; the node stays busy until it ends."""
        deadline = time.monotonic() + _EXPORT_GONE_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                exports = await self.process.execute("query-block-exports")
            except DataPlaneError:
                return
            if not any(e.get("id") == export_id for e in exports):
                return
            await asyncio.sleep(0.01)

    async def _execute(self, name: str, command: str, arguments: dict[str, Any]) -> Any:
        try:
            return await self.process.execute(command, arguments)
        except DataPlaneError as error:
            raise DataPlaneError(f"volume {name}: {error}") from error


class SharedExport:
    """A volume's place in its class's daemon, with the interface of a `Daemon`."""

    def __init__(self, host: ClassDaemon, config: DaemonConfig) -> None:
        self.host = host
        self.config = config

    @property
    def pid(self) -> int | None:
        return self.host.pid

    def alive(self) -> bool:
        return self.host.serves(self.config.name)

    async def start(self) -> None:
        await self.host.add(self.config)

    async def stop(self) -> None:
        await self.host.remove(self.config.name)

    async def resize(self, size: int) -> None:
        await self.host.resize(self.config.name, size)
