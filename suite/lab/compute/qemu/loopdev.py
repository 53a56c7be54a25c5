"""Encrypted volumes reach the VM's QEMU as a block device, as dm-crypt devices do.

On a real node an encrypted Block PVC is a dm-crypt device, and KubeVirt's QEMU opens it
as a host block device. When the volume grows, virt-handler asks QEMU to resize the
drive; for a block device QEMU only checks the device's new size, it truncates nothing.

The lab's plaintext view of an encrypted volume is the data plane's FUSE export of a
QEMU `luks` node. Opened as a regular file, a `block_resize` in the VM's QEMU truncates
that file, and QEMU 7.2's FUSE export truncates with a zero-write flag its luks driver
does not offer: "Could not resize file: Operation not supported", so the guest never saw
the growth. A loop device over the export (direct I/O, so no page cache sits between the
guest and the data plane) gives the VM's QEMU a block device again; `losetup -c` is the
node noticing the new size before the resize, as the kernel does for dm-crypt.

Loop devices outlive processes, so each one is detached when its QEMU ends, and the lab
detaches any left under its state folder when it stops.
"""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

MAPPER = "/dev/mapper/"
LOSETUP_TIMEOUT_S = 20


class LoopDeviceError(Exception):
    """losetup refused; the message is its own."""


def wants_block_device(path: Path) -> bool:
    """An encrypted volume's plaintext view (the node's /dev/mapper/luks-*)."""
    return MAPPER in str(path)


def _losetup(*args: str) -> str:
    done = subprocess.run(["losetup", *args], capture_output=True, text=True,
                          timeout=LOSETUP_TIMEOUT_S)
    if done.returncode != 0:
        raise LoopDeviceError(f"losetup {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def attach(path: Path) -> Path:
    """A new loop device over `path`, with direct I/O where the file allows it."""
    try:
        return Path(_losetup("--direct-io=on", "--find", "--show", str(path)))
    except LoopDeviceError:
        return Path(_losetup("--find", "--show", str(path)))


def refresh(device: Path) -> None:
    """Re-read the backing file's size (LOOP_SET_CAPACITY)."""
    _losetup("--set-capacity", str(device))


def detach(device: Path) -> None:
    with contextlib.suppress(LoopDeviceError, OSError, subprocess.SubprocessError):
        _losetup("--detach", str(device))


def detach_under(folder: Path) -> list[str]:
    """Detach every loop device whose backing file lies under `folder`; their names."""
    try:
        listing = _losetup("--list", "--noheadings", "--output", "NAME,BACK-FILE")
    except (LoopDeviceError, OSError, subprocess.SubprocessError):
        return []
    prefix = str(folder.resolve()).rstrip("/") + "/"
    gone = []
    for line in listing.splitlines():
        name, _, backing = line.strip().partition(" ")
        if backing.strip().removesuffix(" (deleted)").startswith(prefix):
            detach(Path(name))
            gone.append(name)
    return gone
