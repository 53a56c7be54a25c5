"""A real QEMU guest (the `guests: qemu` runtime's VM) booted from the built image.

One boot serves every assertion (a TCG boot costs 5-90 s on a shared 2-core machine):
the cloud-init user data applied from the cidata ISO (user, password, write_files,
passwordless sudo, `cloud-init status`), a wrong password refused, the disk found by
KubeVirt's serial under /dev/disk/by-id, data written in the guest read back on the host,
fio running through virtio, and online growth of the volume reaching the guest kernel
through the runtime's QMP `block_resize` on the VM's drive; live migration to a QEMU
started with `-incoming` (and its failure when the target dies, and virt-launcher's
monitor aborting it when the copy is stuck), followed by query-migrate while it runs.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from suite.lab.compute.cloudinit import parse_user_data
from suite.lab.compute.qemu import GuestImageMissing, QemuGuest, find_image
from suite.lab.compute.qemu.guest import QemuMigrationFailed
from suite.lab.compute.qemu.migrate import ConvergenceMonitor
from suite.lab.compute.qemu.session import SerialSession

try:
    find_image()
    MISSING = ""
except GuestImageMissing as exc:
    MISSING = str(exc)

needs_image = pytest.mark.skipif(bool(MISSING), reason=MISSING)

USER_DATA = """#cloud-config
user: fedora
password: s3cret-pw
chpasswd: {expire: false}
write_files:
- path: /usr/local/bin/hello
  permissions: '0755'
  content: |
    #!/bin/sh
    echo "hello from $(hostname)"
"""
MiB = 1 << 20


class Watch:
    """Records what the runtime tells virt-launcher's side; `hang` stops the target QEMU
    once the copy runs (a migration stuck on a dead network)."""

    def __init__(self, guest: QemuGuest, monitor: ConvergenceMonitor, hang: bool) -> None:
        self.guest, self.monitor, self.hang = guest, monitor, hang
        self.steps: list[str] = []

    async def target_ready(self) -> None:
        assert self.guest.incoming is not None and self.guest.incoming.process.returncode is None
        self.steps.append("target-ready")

    async def started(self) -> None:
        self.steps.append("started")
        if self.hang and self.guest.incoming is not None:
            os.kill(self.guest.incoming.process.pid, signal.SIGSTOP)

    def progress(self, info: dict[str, Any]) -> bool:
        self.steps.append(info["status"])
        return self.monitor.observe(info) is not None


async def _scenario(tmp: Path) -> None:
    disk = tmp / "disk.img"
    with open(disk, "wb") as f:
        f.truncate(64 * MiB)
    guest = QemuGuest("vm-qemu-test", tmp / "guest", parse_user_data(USER_DATA),
                      user_data=USER_DATA)
    guest.link_disk("data-serial-1", disk)
    await guest.start()
    try:
        session = SerialSession(guest)
        await session.guest.send(b"\r")
        await session.expect(r"vm-qemu-test login: ", 300)
        await guest.send(b"fedora\r")
        await session.expect("Password: ", 30)
        await guest.send(b"wrong\r")
        await session.expect("Login incorrect", 60)
        await session.login("fedora", "s3cret-pw")

        assert await session.run("hello") == (0, "hello from vm-qemu-test")
        code, out = await session.run("cloud-init status --wait", 120)
        assert (code, out.splitlines()[-1]) == (0, "status: done")
        assert await session.run("sudo -n id -u") == (0, "0")
        code, link = await session.run("readlink /dev/disk/by-id/virtio-data-serial-1")
        assert code == 0 and link.startswith("../../vd"), link
        dev = "/dev/" + link.rsplit("/", 1)[1]

        code, _ = await session.run(
            f"echo written-in-guest | sudo -n dd of={dev} bs=512 seek=2048 conv=fsync "
            "oflag=direct 2>/dev/null")
        assert code == 0
        with open(disk, "rb") as f:
            f.seek(2048 * 512)
            assert f.read(16) == b"written-in-guest"

        code, iops = await session.run(
            f"sudo -n fio --name=r --filename={dev} --direct=1 --rw=randread --bs=4k "
            "--runtime=2 --time_based --output-format=terse | cut -d';' -f8", 120)
        assert code == 0 and int(iops) > 0, iops

        name = dev.rsplit("/", 1)[1]
        assert await session.run(f"cat /sys/block/{name}/size") == (0, str(64 * MiB // 512))
        with open(disk, "r+b") as f:  # the storage grows the volume; the runtime's
            f.truncate(96 * MiB)         # block_resize on the VM's drive tells the guest
        code, _ = await session.run(
            f"i=0; while [ $(cat /sys/block/{name}/size) = {64 * MiB // 512} ] && "
            "[ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done", 60)
        assert await session.run(f"cat /sys/block/{name}/size") == (0, str(96 * MiB // 512))
        await guest.resize("data-serial-1", 128 * MiB)  # the QMP step itself
        await asyncio.sleep(1)
        assert await session.run(f"cat /sys/block/{name}/size") == (0, str(128 * MiB // 512))
        assert disk.stat().st_size == 128 * MiB

        # live migration: a target QEMU with -incoming; a dying target fails it and the
        # guest runs on at the source; then a real one, the shell's state kept
        assert await session.run("echo kept > /tmp/state; echo ok") == (0, "ok")
        source_pid = guest.process.pid if guest.process else 0
        with pytest.raises(QemuMigrationFailed):
            await guest.migrate({"data-serial-1": disk}, fail=True)
        assert guest.process is not None and guest.process.pid == source_pid
        assert await session.run("echo on-source") == (0, "on-source")
        stuck = Watch(guest, ConvergenceMonitor(progress_timeout_s=2, completion_timeout_s=0),
                      hang=True)
        with pytest.raises(QemuMigrationFailed) as aborted:
            await guest.migrate({"data-serial-1": disk}, watch=stuck)
        assert aborted.value.cancelled and stuck.monitor.abort_reason.startswith("stuck for ")
        assert stuck.steps[:2] == ["target-ready", "started"]
        assert "active" in stuck.steps
        assert guest.process is not None and guest.process.pid == source_pid
        assert await session.run("echo still-on-source") == (0, "still-on-source")
        # the migration object deleted mid-copy: the controller's task is cancelled and
        # the source's job is cancelled with it (not left to fail on a dead target)
        held = Watch(guest, ConvergenceMonitor(progress_timeout_s=0, completion_timeout_s=0),
                     hang=True)
        task = asyncio.get_running_loop().create_task(
            guest.migrate({"data-serial-1": disk}, watch=held))
        for _ in range(600):
            if "started" in held.steps:
                break
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert guest.incoming is None and guest.process.pid == source_pid
        assert guest.qmp is not None
        for _ in range(100):
            status = (await guest.qmp.execute("query-migrate"))["status"]
            if status != "cancelling":
                break
            await asyncio.sleep(0.05)
        assert status == "cancelled"
        assert await session.run("echo after-abort") == (0, "after-abort")
        watched = Watch(guest, ConvergenceMonitor(progress_timeout_s=150,
                                                  completion_timeout_s=150), hang=False)
        info = await guest.migrate({"data-serial-1": disk}, watch=watched)
        assert info["status"] == "completed"
        assert watched.steps[:2] == ["target-ready", "started"] and len(watched.steps) > 2
        assert not watched.monitor.abort_reason
        assert guest.process is not None and guest.process.pid != source_pid
        assert await session.run("cat /tmp/state") == (0, "kept")
    finally:
        await guest.stop()
    assert not guest.alive


@pytest.mark.extended
@needs_image
@pytest.mark.slow  # a QEMU/TCG boot: a minute or more
def test_qemu_guest_boots_applies_user_data_and_sees_its_disk(tmp_path: Path) -> None:
    asyncio.run(_scenario(tmp_path))


def test_missing_image_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(GuestImageMissing) as info:
        find_image(tmp_path)
    assert "build_guest_initramfs.sh" in str(info.value)
    assert "\n" not in str(info.value)


def test_sockets_stay_short_under_a_deep_state_folder(tmp_path: Path) -> None:
    """A unix socket path must be under 108 bytes; lab state folders can be deeper."""
    from suite.lab.compute.qemu.image import GuestImage
    from suite.lab.compute.qemu.machine import Drive, command_line

    deep = tmp_path / ("d" * 60) / ("e" * 60)
    guest = QemuGuest("vm", deep, parse_user_data(USER_DATA),
                      image=GuestImage(Path("/k"), Path("/i"), "6.1"))
    folder = guest._socket_dir()
    try:
        argv = command_line(guest.image, folder, [Drive("disk0", deep / "x,y", "ser")])
        assert len(str(folder / "serial.sock")) < 108
        assert f"path={folder / 'serial.sock'},server=on" in " ".join(argv)
        assert "filename=" + str(deep / "x,,y") in " ".join(argv)  # commas doubled
        assert "serial=ser" in " ".join(argv) and "-accel tcg" in " ".join(argv)
    finally:
        folder.rmdir()
