"""One qemu-storage-daemon serving one volume through a FUSE export.

The node graph is file -> raw|luks ("format") -> [throttle] -> FUSE export. The file
node opens the image with O_DIRECT (`cache.direct=on`, KubeVirt's `cache=none`), so a
consumer's direct I/O reaches the disk and fio through the export measures the storage
rather than the host's page cache.

This daemon serves volumes of unlimited classes, and limited volumes created without
a class to share with (`limit_group`); such a volume's throttle group `tg0` is its
own. Volumes of a limited class share one daemon and one group (classdaemon.py).

The daemon is started with everything on its command line (objects first: a blockdev
naming a secret or throttle group that does not exist yet makes the daemon exit), then
steered over its QMP monitor. A volume is ready only once the kernel lists its mount.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import mounts
from .images import ImageRef, MiB, escape, key_pipes, secret_args
from .qsd import MONITOR_ARGS, START_TIMEOUT_S, QsdProcess

FILE_NODE = "file0"
FORMAT_NODE = "fmt0"
THROTTLE_NODE = "thr0"


@dataclass(frozen=True)
class DaemonConfig:
    """What a daemon serves and where: image, export file, monitor socket, log, limits."""

    name: str
    image: ImageRef
    export: Path
    folder: Path
    limits: Mapping[str, Any] | None = None

    @property
    def top_node(self) -> str:
        return THROTTLE_NODE if throttle_options(self.limits) else FORMAT_NODE


def throttle_limits(limits: Mapping[str, Any] | None) -> dict[str, int]:
    """The class's limits as QEMU's ThrottleLimits (`iops-total`, `bps-total`)."""
    out: dict[str, int] = {}
    if limits and limits.get("iops"):
        out["iops-total"] = int(limits["iops"])
    if limits and limits.get("bandwidthMiBs"):
        out["bps-total"] = int(float(limits["bandwidthMiBs"]) * MiB)
    return out


def throttle_options(limits: Mapping[str, Any] | None) -> str:
    """`x-iops-total=..,x-bps-total=..` for the class's limits, '' when unlimited."""
    return ",".join(f"x-{key}={value}" for key, value in throttle_limits(limits).items())


def command_line(config: DaemonConfig, secret_fds: list[int]) -> list[str]:
    """The daemon's arguments: monitor, objects, blockdevs bottom-up, then export."""
    argv = [*MONITOR_ARGS, *secret_args(secret_fds)]
    throttle = throttle_options(config.limits)
    if throttle:
        argv += ["--object", f"throttle-group,id=tg0,{throttle}"]
    image = escape(str(config.image.path))
    argv += ["--blockdev", f"driver=file,node-name={FILE_NODE},filename={image},discard=unmap,"
             "cache.direct=on"]
    format_node = f"node-name={FORMAT_NODE},file={FILE_NODE},discard=unmap,detect-zeroes=unmap"
    if config.image.key is None:
        argv += ["--blockdev", f"driver=raw,{format_node}"]
    else:
        argv += ["--blockdev", f"driver=luks,{format_node},key-secret=sec0"]
    if throttle:
        argv += ["--blockdev",
                 f"driver=throttle,node-name={THROTTLE_NODE},file={FORMAT_NODE},throttle-group=tg0"]
    argv += ["--export", f"type=fuse,id=exp0,node-name={config.top_node},"
             f"mountpoint={escape(str(config.export))},writable=on"]
    return argv


def prepare_export(export: Path) -> None:
    """Clear a stale mount from a crashed run; FUSE mounts over an existing regular file."""
    if mounts.is_mounted(export):
        mounts.force_unmount(export)
    export.touch()


class Daemon:
    """A running daemon: start it, talk to it, stop it without leaving a mount behind."""

    def __init__(self, config: DaemonConfig) -> None:
        self.config = config
        self.process = QsdProcess(f"volume {config.name}", config.folder)

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.alive()

    async def start(self) -> None:
        """Spawn, connect to the monitor and wait for the kernel to list the export."""
        config = self.config
        prepare_export(config.export)
        keys = [config.image.key] if config.image.key is not None else []
        try:
            with key_pipes(keys) as fds:
                await self.process.spawn(command_line(config, fds), fds)
            if not await mounts.wait_mounted(config.export, START_TIMEOUT_S, self.alive):
                raise self.process.failure("its FUSE export never appeared in /proc/mounts")
        except BaseException:
            await self.stop()
            raise

    async def execute(self, command: str, arguments: dict[str, Any] | None = None) -> Any:
        return await self.process.execute(command, arguments)

    async def block_resize(self, node: str, size: int) -> None:
        await self.execute("block_resize", {"node-name": node, "size": size})

    async def resize(self, size: int) -> None:
        """Grow the export to `size` bytes (the top node's length is what FUSE shows)."""
        await self.block_resize(self.config.top_node, size)

    async def stop(self) -> None:
        """QMP quit, then SIGTERM, then SIGKILL; finally make sure no mount is left."""
        await self.process.stop()
        if mounts.is_mounted(self.config.export):
            mounts.force_unmount(self.config.export)
