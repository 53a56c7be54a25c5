"""One qemu-storage-daemon serving one volume through a FUSE export.

The node graph is file -> raw|luks ("format") -> [throttle] -> FUSE export. The file
node opens the image with O_DIRECT (`cache.direct=on`, KubeVirt's `cache=none`), so a
consumer's direct I/O reaches the disk and fio through the export measures the storage
rather than the host's page cache.

The daemon is started with everything on its command line (objects first: a blockdev
naming a secret or throttle group that does not exist yet makes the daemon exit), then
steered over its QMP monitor. A volume is ready only once the kernel lists its mount.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import mounts
from .errors import DataPlaneError
from .images import ImageRef, MiB, escape, key_pipes, secret_args
from .qmp import QmpClient

FILE_NODE = "file0"
FORMAT_NODE = "fmt0"
THROTTLE_NODE = "thr0"
_START_TIMEOUT_S = 10.0
_QUIT_TIMEOUT_S = 5.0
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes; longer paths go through /proc/self/fd
# If the process that started a daemon dies without shutting the data plane down, the
# daemon gets SIGTERM (a clean quit that unmounts its export) instead of leaking.
_DEATH_SIGNAL = ["setpriv", "--pdeathsig", "TERM", "--"] if shutil.which("setpriv") else []


@dataclass(frozen=True)
class DaemonConfig:
    """What a daemon serves and where: image, export file, monitor socket, log, limits."""

    name: str
    image: ImageRef
    export: Path
    folder: Path
    limits: Mapping[str, Any] | None = None

    @property
    def socket(self) -> Path:
        return self.folder / "qmp.sock"

    @property
    def log(self) -> Path:
        return self.folder / "qsd.log"

    @property
    def top_node(self) -> str:
        return THROTTLE_NODE if throttle_options(self.limits) else FORMAT_NODE


def throttle_options(limits: Mapping[str, Any] | None) -> str:
    """`x-iops-total=..,x-bps-total=..` for the class's limits, '' when unlimited."""
    if not limits:
        return ""
    parts = []
    if limits.get("iops"):
        parts.append(f"x-iops-total={int(limits['iops'])}")
    if limits.get("bandwidthMiBs"):
        parts.append(f"x-bps-total={int(float(limits['bandwidthMiBs']) * MiB)}")
    return ",".join(parts)


def command_line(config: DaemonConfig, secret_fds: list[int]) -> list[str]:
    """The daemon's argv: monitor, then objects, then blockdevs bottom-up, then export."""
    argv = [*_DEATH_SIGNAL, "qemu-storage-daemon", "--chardev",
            "socket,path=qmp.sock,server=on,wait=off,id=mon0", "--monitor", "chardev=mon0"]
    argv += secret_args(secret_fds)
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


class Daemon:
    """A running daemon: start it, talk to it, stop it without leaving a mount behind."""

    def __init__(self, config: DaemonConfig) -> None:
        self.config = config
        self.proc: asyncio.subprocess.Process | None = None
        self.qmp: QmpClient | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self) -> None:
        """Spawn, connect to the monitor and wait for the kernel to list the export."""
        config = self.config
        if mounts.is_mounted(config.export):
            mounts.force_unmount(config.export)  # a stale export from a crashed run
        config.export.touch()  # FUSE mounts over an existing regular file
        config.socket.unlink(missing_ok=True)
        keys = [config.image.key] if config.image.key is not None else []
        with key_pipes(keys) as fds, open(config.log, "ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *command_line(config, fds), stdin=asyncio.subprocess.DEVNULL, stdout=log,
                stderr=asyncio.subprocess.STDOUT, cwd=config.folder, pass_fds=fds)
        try:
            await self._wait_ready()
        except BaseException:
            await self.stop()
            raise

    async def _wait_ready(self) -> None:
        self.qmp = await self._connect()
        if not await mounts.wait_mounted(self.config.export, _START_TIMEOUT_S, self.alive):
            raise self._failure("its FUSE export never appeared in /proc/mounts")

    async def _connect(self) -> QmpClient:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while self.alive() and time.monotonic() < deadline:
            try:
                return await connect_monitor(self.config.socket)
            except (FileNotFoundError, ConnectionRefusedError):
                await asyncio.sleep(0.005)
        raise self._failure("its QMP monitor never answered")

    def _failure(self, what: str) -> DataPlaneError:
        lines = self.config.log.read_text(errors="replace").strip().splitlines()
        detail = lines[-1] if lines else "no output"
        return DataPlaneError(f"volume {self.config.name}: qemu-storage-daemon failed "
                              f"({what}): {detail}")

    async def execute(self, command: str, arguments: dict[str, Any] | None = None) -> Any:
        if self.qmp is None or not self.alive():
            raise DataPlaneError(f"volume {self.config.name}: its daemon is not running")
        return await self.qmp.execute(command, arguments)

    async def block_resize(self, node: str, size: int) -> None:
        await self.execute("block_resize", {"node-name": node, "size": size})

    async def stop(self) -> None:
        """QMP quit, then SIGTERM, then SIGKILL; finally make sure no mount is left."""
        if self.qmp is not None:
            await self._quit()
        if self.proc is not None and self.proc.returncode is None:
            await self._terminate(self.proc)
        if mounts.is_mounted(self.config.export):
            mounts.force_unmount(self.config.export)
        self.config.socket.unlink(missing_ok=True)

    async def _quit(self) -> None:
        assert self.qmp is not None
        # the daemon may close the socket before it answers
        with contextlib.suppress(DataPlaneError, OSError, TimeoutError):
            await asyncio.wait_for(self.qmp.execute("quit"), _QUIT_TIMEOUT_S)
        self.qmp.close()
        self.qmp = None

    @staticmethod
    async def _terminate(proc: asyncio.subprocess.Process) -> None:
        for action, wait_s in ((None, _QUIT_TIMEOUT_S), (proc.terminate, 2.0), (proc.kill, None)):
            if action is not None and proc.returncode is None:
                action()
            try:
                await asyncio.wait_for(proc.wait(), wait_s)
                return
            except TimeoutError:
                continue


async def connect_monitor(socket: Path) -> QmpClient:
    """Connect to a monitor socket, even one whose path is too long for sun_path."""
    if len(str(socket)) <= _SOCKET_PATH_MAX:
        return await QmpClient.connect(socket)
    folder_fd = os.open(socket.parent, os.O_PATH)
    try:
        return await QmpClient.connect(Path(f"/proc/self/fd/{folder_fd}") / socket.name)
    finally:
        os.close(folder_fd)
