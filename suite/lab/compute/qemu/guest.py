"""A lab guest that is a real VM: QEMU under TCG, its UART on a unix socket, a QMP monitor.

It offers what the process runtime's `Guest` offers (start, attach/detach/send for the
console, link_disk, stop), so the compute controllers stay unaware of which runtime
runs. Disks linked before `start` are on QEMU's command line; a disk linked to a running
guest is hot-plugged over QMP (blockdev-add + device_add), as libvirt does for KubeVirt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ...dataplane.qmp import QmpClient
from ..cloudinit import GuestConfig
from ..consoleport import ConsolePort
from ..procs import end_session
from . import loopdev
from .cidata import build_iso, render_script
from .image import GuestImage, find_image
from .machine import (
    DEFAULT_MEMORY_MIB,
    HOTPLUG_PORTS,
    Drive,
    command_line,
    file_driver,
    hotplug_port,
)

log = logging.getLogger(__name__)
SOCKET_WAIT_S = 30.0
UNPLUG_POLL_S = 0.5
UNPLUG_POLLS = 120  # a minute for the guest to let the device go
SIZE_POLL_S = 0.5
MONITOR_PERIOD_S = 0.4  # virt-launcher's migration monitor polls libvirt every 400 ms
FINAL_STATES = ("completed", "failed", "cancelled")


class QemuMigrationFailed(RuntimeError):
    """QEMU's migration ended `failed` or `cancelled`; the message is its error-desc."""

    def __init__(self, desc: str, cancelled: bool = False) -> None:
        super().__init__(desc)
        self.cancelled = cancelled


class MigrationWatch(Protocol):
    """What virt-launcher's side hears of a migration in flight (compute/qemu/migrate.py)."""

    async def target_ready(self) -> None:
        """The target QEMU waits with `-incoming`."""

    async def started(self) -> None:
        """The source accepted `migrate`: the copy runs."""

    def progress(self, info: dict[str, Any]) -> bool:
        """One query-migrate while the copy runs; True asks for `migrate_cancel`."""
        return False


@dataclass
class IncomingTarget:
    """A target QEMU started with `-incoming`: its process, monitor and UART."""

    process: asyncio.subprocess.Process
    qmp: QmpClient
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    uri: str

    async def drop(self) -> None:
        """The migration did not happen: the target domain goes away."""
        self.qmp.close()
        self.writer.close()
        await end_session(self.process)


class QemuGuest(ConsolePort):
    """One running VM: its QEMU process, serial console, monitor and drives."""

    backlog_bytes = 256 * 1024  # a boot log is longer than a shell's prompt
    guest_agent = False  # the image runs no qemu-guest-agent (compute/agent.py)

    def __init__(self, name: str, workdir: Path, config: GuestConfig,
                 hide_tools: tuple[str, ...] = (), protect: Path | None = None,
                 connected: bool = True, user_data: str | None = None,
                 image: GuestImage | None = None,
                 memory_mib: int = DEFAULT_MEMORY_MIB) -> None:
        self.name = name
        self.workdir = workdir
        self.config = config
        self.hide_tools = hide_tools
        self.connected = connected
        self.user_data = user_data
        self.image = image or find_image()
        self.memory_mib = memory_mib
        self.drives: dict[str, Drive] = {}
        self.process: asyncio.subprocess.Process | None = None
        self.qmp: QmpClient | None = None
        self._serial: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._sizes_task: asyncio.Task[None] | None = None
        self._sizes: dict[str, int] = {}
        self._loops: dict[Path, Path] = {}  # an encrypted volume's node path -> loop device
        self._ports: dict[str, str] = {}  # a hot-plugged disk's serial -> its root port
        self._nodes = 0
        self._migrations = 0
        self.incoming: IncomingTarget | None = None  # the target of a migration in flight
        self._socket_dirs: list[Path] = []
        self.sockets = workdir
        self._init_console()
        self.dev_root = workdir / "devroot"  # unused by VMs; kept for the shared seam

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    # ------------------------------------------------------------------ lifecycle
    def cidata(self) -> Path:
        script = render_script(self.config, self.hide_tools, self.connected)
        return build_iso(self.workdir, self.user_data, self.name, self.name, script)

    async def start(self, incoming: str | None = None) -> None:
        """Start QEMU (a migration target when `incoming` is set), then attach to it."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sockets = self._socket_dir()
        drives = [Drive("cloudinit", self.cidata(), "cloudinit", readonly=True),
                  *(self._opened(d) for d in self.drives.values())]
        argv = command_line(self.image, self.sockets, drives, self.memory_mib, incoming)
        with open(self.workdir / "qemu.log", "wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=log, start_new_session=True)
        await self._connect()

    async def _connect(self) -> None:
        deadline = asyncio.get_running_loop().time() + SOCKET_WAIT_S
        while True:
            try:
                self.qmp = await QmpClient.connect(self.sockets / "qmp.sock")
                reader, self._serial = await asyncio.open_unix_connection(
                    str(self.sockets / "serial.sock"))
                break
            except (FileNotFoundError, ConnectionError):
                if not self.alive or asyncio.get_running_loop().time() > deadline:
                    raise RuntimeError(f"guest {self.name}: QEMU did not start: "
                                       f"{self.log_tail()}") from None
                await asyncio.sleep(0.05)
        self._reader_task = asyncio.get_running_loop().create_task(self._read(reader))
        self._sizes = {serial: _size(d.path) for serial, d in self.drives.items()}
        self._sizes_task = asyncio.get_running_loop().create_task(self._follow_sizes())

    def log_tail(self) -> str:
        log = self.workdir / "qemu.log"
        text = log.read_text(errors="replace").strip() if log.exists() else ""
        return text.splitlines()[-1] if text else "no output"

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                return
            self._deliver(data)

    # -------------------------------------------------------------------- console
    async def send(self, data: bytes) -> None:
        if self._serial is None:
            return
        with contextlib.suppress(ConnectionError):
            self._serial.write(data)
            await self._serial.drain()

    # ---------------------------------------------------------------------- disks
    def link_disk(self, serial: str, device: Path) -> None:
        """Record a disk for the command line; on a running VM, hot-plug it instead."""
        known = next((d for d in self.drives.values() if d.serial == serial), None)
        if known is not None:
            return  # the same disk re-linked (e.g. after a migration): QEMU keeps it
        drive = Drive(f"disk{self._nodes}", Path(device), serial)
        self._nodes += 1
        self.drives[serial] = drive
        if self.alive and self.qmp is not None:
            asyncio.get_running_loop().create_task(self.hotplug(drive))

    async def hotplug(self, drive: Drive) -> None:
        """blockdev-add then device_add: the disk appears to the guest as a new vdX."""
        assert self.qmp is not None
        opened = self._opened(drive)
        await self.qmp.execute("blockdev-add", {
            "driver": "raw", "node-name": drive.node,
            "file": {"driver": file_driver(opened.path), "filename": str(opened.path),
                     "cache": {"direct": True}}})
        free = [hotplug_port(i) for i in range(HOTPLUG_PORTS)
                if hotplug_port(i) not in self._ports.values()]
        if not free:
            raise RuntimeError(f"guest {self.name}: no free PCIe port for {drive.serial}")
        self._ports[drive.serial] = free[0]
        await self.qmp.execute("device_add", {
            "driver": "virtio-blk-pci", "drive": drive.node, "id": f"{drive.node}-dev",
            "serial": drive.serial, "bus": free[0]})

    def unlink_disk(self, serial: str) -> None:
        """virt-launcher's unplug: the device leaves the guest (the kernel's PCIe
        hot-plug driver releases it), then its drive is closed."""
        drive = self.drives.pop(serial, None)
        if drive is not None and self.alive and self.qmp is not None:
            asyncio.get_running_loop().create_task(self._unplug(drive))

    async def _unplug(self, drive: Drive) -> None:
        assert self.qmp is not None
        with contextlib.suppress(Exception):
            await self.qmp.execute("device_del", {"id": f"{drive.node}-dev"})
        # the guest acknowledges the removal in its own time (pciehp's attention delay):
        # the drive can be closed once no device uses it
        for _ in range(UNPLUG_POLLS):
            try:
                await self.qmp.execute("blockdev-del", {"node-name": drive.node})
                break
            except Exception:  # still in use by the device
                await asyncio.sleep(UNPLUG_POLL_S)
        self._ports.pop(drive.serial, None)
        self._release_loops()

    async def _follow_sizes(self) -> None:
        """virt-launcher's part of online expansion: when a volume the VM opens grew
        (the storage resized it and the node shows it), resize the VM's drive so the
        guest kernel gets a capacity change. Where the node never shows the growth (the
        `online-expansion-invisible-to-guest` fault, no ExpandDisks gate) nothing
        grows, so the guest keeps the old size, as on a real cluster."""
        while self.alive:
            await asyncio.sleep(SIZE_POLL_S)
            for serial, drive in list(self.drives.items()):
                size = _size(drive.path)
                if size > self._sizes.get(serial, size):
                    try:
                        await self.resize(serial, size)
                    except Exception as error:  # the guest keeps its old size
                        # logged, not swallowed: a silent failure here once hid that
                        # encrypted volumes never grew in the guest
                        log.warning("guest %s: resize of %s to %d failed: %s",
                                    self.name, serial, size, error)
                self._sizes[serial] = max(size, self._sizes.get(serial, 0))

    async def resize(self, serial: str, size: int) -> None:
        """virt-handler's step after the storage grew: tell QEMU, so the guest sees it."""
        drive = self.drives[serial]
        assert self.qmp is not None
        loop = self._loops.get(drive.path)
        if loop is not None:  # the node's block device learns the new size first
            await asyncio.to_thread(loopdev.refresh, loop)
        await self.qmp.execute("block_resize", {"node-name": drive.node, "size": size})

    def _opened(self, drive: Drive) -> Drive:
        """The drive as QEMU opens it: an encrypted volume's view through a loop device
        (loopdev.py says why), anything else as the file it is."""
        if drive.readonly or not loopdev.wants_block_device(drive.path):
            return drive
        if drive.path not in self._loops:
            self._loops[drive.path] = loopdev.attach(drive.path)
        return Drive(drive.node, self._loops[drive.path], drive.serial, drive.readonly)

    def _release_loops(self, keep_current: bool = True) -> None:
        """Detach the loop devices no running QEMU of this VM opens any more (all of
        them when the VM stops)."""
        wanted = {d.path for d in self.drives.values()} if keep_current else set()
        for path in [p for p in self._loops if p not in wanted]:
            loopdev.detach(self._loops.pop(path))

    async def migrate(self, paths: dict[str, Path], fail: bool = False,
                      watch: MigrationWatch | None = None) -> dict[str, Any]:
        """Live-migrate to a QEMU started with `-incoming` on the target's device paths
        (serial -> path); the console continues on the target. `fail` kills the target
        mid-copy, so the source's migration fails as a real one does when the target
        dies, and the guest runs on at the source. `watch` hears each step and every
        query-migrate while the copy runs (virt-launcher's migration monitor) and may
        ask for `migrate_cancel`. Returns QEMU's last query-migrate."""
        assert self.qmp is not None
        target = self.incoming = await self._start_target(paths)
        try:
            if watch is not None:
                await watch.target_ready()
            await self.qmp.execute("migrate", {"uri": f"unix:{target.uri}"})
            if watch is not None:
                await watch.started()
            if fail:
                await asyncio.sleep(0.2)
                await end_session(target.process)
            info = await self._follow(watch)
        except BaseException:  # e.g. the migration object deleted: abort the job
            with contextlib.suppress(Exception):
                await asyncio.shield(self.qmp.execute("migrate_cancel"))
            await target.drop()
            self._release_loops()
            raise
        finally:
            self.incoming = None
        if info["status"] != "completed":
            await target.drop()
            self._release_loops()
            raise QemuMigrationFailed(info.get("error-desc") or info["status"],
                                      cancelled=info["status"] == "cancelled")
        for serial, path in paths.items():
            if serial in self.drives:
                self.drives[serial] = Drive(self.drives[serial].node, path, serial)
        await self._switch_to(target)
        self._release_loops()  # the source's node views
        return info

    async def _start_target(self, paths: dict[str, Path]) -> IncomingTarget:
        """The target virt-launcher's QEMU, waiting with `-incoming` on a unix socket."""
        self._migrations += 1
        rundir = self.workdir / f"target{self._migrations}"
        rundir.mkdir(parents=True, exist_ok=True)
        drives = [Drive("cloudinit", self.workdir / "cidata.iso", "cloudinit", readonly=True)]
        drives += [self._opened(Drive(d.node, paths.get(s, d.path), s))
                   for s, d in self.drives.items()]
        sockets = self._socket_dir()
        sock = sockets / "migrate.sock"
        argv = command_line(self.image, sockets, drives, self.memory_mib, f"unix:{sock}")
        with open(rundir / "qemu.log", "wb") as log:
            process = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=log, start_new_session=True)
        try:
            qmp, reader, writer = await _attach_to(process, sockets, rundir / "qemu.log")
        except BaseException:
            await end_session(process)
            raise
        return IncomingTarget(process, qmp, reader, writer, str(sock))

    async def _follow(self, watch: MigrationWatch | None) -> dict[str, Any]:
        """Poll query-migrate until QEMU's migration ends; the watch may cancel it."""
        assert self.qmp is not None
        cancelled = False
        while True:
            info = await self.qmp.execute("query-migrate")
            if info.get("status") in FINAL_STATES:
                return dict(info)
            if watch is not None and not cancelled and watch.progress(info):
                cancelled = True
                await self.qmp.execute("migrate_cancel")
            await asyncio.sleep(MONITOR_PERIOD_S)

    async def _switch_to(self, target: IncomingTarget) -> None:
        """The target runs the guest now: its monitor and UART become this guest's."""
        old_process, old_qmp, old_serial = self.process, self.qmp, self._serial
        if self._reader_task is not None:
            self._reader_task.cancel()
        self.process, self.qmp, self._serial = target.process, target.qmp, target.writer
        self._reader_task = asyncio.get_running_loop().create_task(self._read(target.reader))
        if old_qmp is not None:
            old_qmp.close()
        if old_serial is not None:
            old_serial.close()
        if old_process is not None:
            await end_session(old_process)  # the source domain ends after the switch

    async def stop(self) -> None:
        """Power the VM off, release the console, drop its files."""
        self._drop_client()
        if self.qmp is not None:
            self.qmp.close()
            self.qmp = None
        for task in (self._reader_task, self._sizes_task):
            if task is not None:
                task.cancel()
        if self._serial is not None:
            self._serial.close()
            self._serial = None
        if self.process is not None:
            await end_session(self.process)
            self.process = None
        self._release_loops(keep_current=False)
        shutil.rmtree(self.workdir, ignore_errors=True)
        for folder in self._socket_dirs:
            shutil.rmtree(folder, ignore_errors=True)

    def _socket_dir(self) -> Path:
        """A short folder for QEMU's sockets: a unix socket path must stay under 108
        bytes, and the lab's state folder can be deep."""
        folder = Path(tempfile.mkdtemp(prefix="kvq-"))
        self._socket_dirs.append(folder)
        return folder



def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


async def _attach_to(process: asyncio.subprocess.Process, rundir: Path, log: Path,
                     ) -> tuple[QmpClient, asyncio.StreamReader, asyncio.StreamWriter]:
    """The monitor and UART of a QEMU just started with its sockets in `rundir`."""
    deadline = asyncio.get_running_loop().time() + SOCKET_WAIT_S
    while True:
        try:
            qmp = await QmpClient.connect(rundir / "qmp.sock")
            reader, writer = await asyncio.open_unix_connection(str(rundir / "serial.sock"))
            return qmp, reader, writer
        except (FileNotFoundError, ConnectionError):
            if process.returncode is not None or \
                    asyncio.get_running_loop().time() > deadline:
                raise QemuMigrationFailed(
                    "target QEMU did not start: " +
                    (log.read_text(errors="replace").strip()[-300:] if log.exists() else "")
                ) from None
            await asyncio.sleep(0.05)
