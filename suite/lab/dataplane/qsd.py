"""A qemu-storage-daemon process and its monitor: spawn, connect, command, stop.

Both ways the data plane runs daemons share this: one daemon per volume (daemon.py)
and one daemon per limited class hosting all the class's volumes (classdaemon.py). The
process gets SIGTERM if the lab dies without shutting down (`setpriv --pdeathsig`),
a clean quit that unmounts its exports instead of leaking them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import DataPlaneError
from .qmp import QmpClient

START_TIMEOUT_S = 10.0
_QUIT_TIMEOUT_S = 5.0
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes; longer paths go through /proc/self/fd
_DEATH_SIGNAL = ["setpriv", "--pdeathsig", "TERM", "--"] if shutil.which("setpriv") else []
MONITOR_ARGS = ["--chardev", "socket,path=qmp.sock,server=on,wait=off,id=mon0",
                "--monitor", "chardev=mon0"]


class QsdProcess:
    """One daemon process running in `folder` (qmp.sock, qsd.log), named for errors."""

    def __init__(self, what: str, folder: Path) -> None:
        self.what = what  # "volume X" or "class Y": how errors name it
        self.folder = folder
        self.proc: asyncio.subprocess.Process | None = None
        self.qmp: QmpClient | None = None

    @property
    def socket(self) -> Path:
        return self.folder / "qmp.sock"

    @property
    def log(self) -> Path:
        return self.folder / "qsd.log"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        """Running, as the kernel sees it: a killed daemon is a zombie until asyncio's
        child watcher reaps it, and commands sent to it meanwhile hit a broken pipe."""
        if self.proc is None or self.proc.returncode is not None:
            return False
        try:
            stat = Path(f"/proc/{self.proc.pid}/stat").read_text()
        except OSError:
            return False
        return stat.rsplit(")", 1)[1].split()[0] != "Z"

    async def spawn(self, argv: Sequence[str], fds: Sequence[int] = ()) -> None:
        """Start `qemu-storage-daemon argv...` and connect to its monitor."""
        self.socket.unlink(missing_ok=True)
        with open(self.log, "ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *_DEATH_SIGNAL, "qemu-storage-daemon", *argv,
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
                cwd=self.folder, pass_fds=tuple(fds))
        self.qmp = await self._connect()

    async def _connect(self) -> QmpClient:
        deadline = time.monotonic() + START_TIMEOUT_S
        while self.alive() and time.monotonic() < deadline:
            try:
                return await connect_monitor(self.socket)
            except (FileNotFoundError, ConnectionRefusedError):
                await asyncio.sleep(0.005)
        raise self.failure("its QMP monitor never answered")

    def failure(self, what: str) -> DataPlaneError:
        lines = self.log.read_text(errors="replace").strip().splitlines() \
            if self.log.exists() else []
        detail = lines[-1] if lines else "no output"
        return DataPlaneError(f"{self.what}: qemu-storage-daemon failed ({what}): {detail}")

    async def execute(self, command: str, arguments: dict[str, Any] | None = None) -> Any:
        if self.qmp is None or not self.alive():
            raise DataPlaneError(f"{self.what}: its daemon is not running")
        try:
            return await self.qmp.execute(command, arguments)
        except OSError as error:  # the daemon died mid-command
            raise DataPlaneError(f"{self.what}: its daemon is gone ({error})") from error

    async def stop(self) -> None:
        """QMP quit, then SIGTERM, then SIGKILL (exports are the caller's to check)."""
        if self.qmp is not None:
            # the daemon may close the socket before it answers
            with contextlib.suppress(DataPlaneError, OSError, TimeoutError):
                await asyncio.wait_for(self.qmp.execute("quit"), _QUIT_TIMEOUT_S)
            self.qmp.close()
            self.qmp = None
        if self.proc is not None and self.proc.returncode is None:
            await _terminate(self.proc)
        self.socket.unlink(missing_ok=True)


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
