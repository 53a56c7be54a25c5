"""A lab guest: a real process on a pseudo-terminal, standing in for the VM's serial port.

The process (see `getty.py`) runs in its own session and mount namespace. The lab keeps
the PTY's master side: bytes from the guest go to the one console client attached (as
virt-handler serves one serial connection at a time), or to a bounded backlog while
nobody is attached, so the guest never blocks on a full terminal and a client that
connects later still sees what it missed. Disks are symlinks under the guest's
`PROBE_DEV_ROOT`; migration re-points them without touching the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
import termios
from pathlib import Path

from .cloudinit import GuestConfig
from .consoleport import ConsolePort
from .procs import end_session

GETTY = Path(__file__).with_name("getty.py")



class Guest(ConsolePort):
    """One running guest: its process, its terminal and its disk links."""

    def __init__(self, name: str, workdir: Path, config: GuestConfig,
                 hide_tools: tuple[str, ...] = (), protect: Path | None = None,
                 connected: bool = True) -> None:
        self.name = name
        self.workdir = workdir
        self.config = config
        self.hide_tools = hide_tools
        self.connected = connected  # whether cloud-init's package installs reach a mirror
        self.protect = protect or workdir  # the lab state folder overlays must not cover
        self.dev_root = workdir / "devroot"
        self.process: asyncio.subprocess.Process | None = None
        self._master = -1
        self._init_console()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        (self.dev_root / "dev/disk/by-id").mkdir(parents=True, exist_ok=True)
        (self.workdir / "tmp").mkdir(exist_ok=True)
        config_path = self._write_config()
        master, slave = os.openpty()
        self._raw_settings(slave)
        self.process = await asyncio.create_subprocess_exec(
            "unshare", "--mount", "--propagation", "slave",
            sys.executable, str(GETTY), str(config_path),
            stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
            cwd="/")
        os.close(slave)
        os.set_blocking(master, False)
        self._master = master
        asyncio.get_running_loop().add_reader(master, self._read)

    def _write_config(self) -> Path:
        data = self.config.to_json() | {
            "name": self.name, "dev_root": str(self.dev_root),
            "work": str(self.workdir / "layers"), "home": str(self.workdir / "home"),
            "hide": list(self.hide_tools), "protect": str(self.protect),
            "connected": self.connected,
            "status_file": str(self.workdir / "cloud-init-status"),
            # A real guest's /tmp is its own; host processes share one, so each guest
            # gets a private TMPDIR instead.
            "tmp": str(self.workdir / "tmp")}
        path = self.workdir / "guest.json"
        path.write_text(json.dumps(data))
        return path

    @staticmethod
    def _raw_settings(fd: int) -> None:
        """A serial line: echo on, CR/LF translation as a getty sets it, wide enough."""
        attrs = termios.tcgetattr(fd)
        attrs[3] |= termios.ECHO | termios.ICANON
        termios.tcsetattr(fd, termios.TCSANOW, attrs)

    def _read(self) -> None:
        try:
            data = os.read(self._master, 65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the guest is gone (EIO on the master side)
            asyncio.get_running_loop().remove_reader(self._master)
            return
        self._deliver(data)

    async def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view and self._master >= 0:
            try:
                written = os.write(self._master, view)
                view = view[written:]
            except BlockingIOError:
                await asyncio.sleep(0.01)
            except OSError:
                return

    def link_disk(self, serial: str, device: Path) -> None:
        """Point virtio-<serial> at `device`, atomically (a writer never sees it missing)."""
        link = self.dev_root / "dev/disk/by-id" / f"virtio-{serial}"
        temp = link.with_name(link.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        temp.symlink_to(device)
        os.replace(temp, link)

    def unlink_disk(self, serial: str) -> None:
        """The disk leaves the guest: its virtio-<serial> link goes."""
        (self.dev_root / "dev/disk/by-id" / f"virtio-{serial}").unlink(missing_ok=True)

    async def stop(self) -> None:
        """Kill every process of the guest, release the terminal, drop its files."""
        self._drop_client()
        if self.process is not None:
            await end_session(self.process)
            self.process = None
        if self._master >= 0:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._master)
            os.close(self._master)
            self._master = -1
        shutil.rmtree(self.workdir, ignore_errors=True)
