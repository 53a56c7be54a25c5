"""The VM's QEMU command line, as virt-launcher's libvirt domain would shape it.

KubeVirt's QEMU opens each volume directly: a Block PVC's device, or a Filesystem PVC's
`disk.img` (pkg/virt-launcher/virtwrap/converter), as a raw virtio-blk drive whose
`serial` is the disk's `serial` in the VMI spec; the guest's udev turns that into
`/dev/disk/by-id/virtio-<serial>`. TCG stands in for KVM (no usable KVM on the lab's
machines); the UART is a unix-socket chardev the lab's console serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .image import GuestImage

# The guest kernel keeps its initramfs in ramfs: tmpfs (half of RAM) cannot hold fio's
# library closure in a 256 MiB guest ("Initramfs unpacking failed: write error").
KERNEL_ARGS = "console=ttyS0 panic=-1 quiet rootfstype=ramfs"
DEFAULT_MEMORY_MIB = 256
# q35's root complex takes no hot-plugged device: like virt-launcher's domain, the VM has
# spare PCIe root ports, one per disk hot-plugged at a time
HOTPLUG_PORTS = 4


def hotplug_port(index: int) -> str:
    return f"hotplug{index}"


@dataclass(frozen=True)
class Drive:
    """One virtio-blk disk: `path` is the file QEMU opens (export, disk.img or ISO)."""

    node: str
    path: Path
    serial: str
    readonly: bool = False


def escape(value: str) -> str:
    """QEMU option values double their commas."""
    return value.replace(",", ",,")


def file_driver(path: Path) -> str:
    """`host_device` for a block device (an encrypted volume's loop device, see
    loopdev.py), `file` for an export or a disk.img."""
    return "host_device" if str(path).startswith("/dev/") else "file"


def drive_args(drive: Drive) -> list[str]:
    # cache=none (O_DIRECT) as KubeVirt's default for block-capable storage; the data
    # plane's FUSE export accepts it.
    ro = "on" if drive.readonly else "off"
    cache = "direct=off" if drive.readonly else "direct=on"
    return ["-blockdev",
            f"driver={file_driver(drive.path)},node-name={drive.node}-file,"
            f"filename={escape(str(drive.path))},"
            f"cache.{cache},read-only={ro},auto-read-only=on",
            "-blockdev", f"driver=raw,node-name={drive.node},file={drive.node}-file,"
            f"read-only={ro}",
            "-device", f"virtio-blk-pci,drive={drive.node},id={drive.node}-dev,"
            f"serial={escape(drive.serial)}"]


def command_line(image: GuestImage, sockets: Path, drives: list[Drive],
                 memory_mib: int = DEFAULT_MEMORY_MIB,
                 incoming: str | None = None) -> list[str]:
    """argv for one guest, its UART and monitor sockets in `sockets`; `incoming` makes
    it a migration target (`-incoming`)."""
    argv = ["qemu-system-x86_64", "-accel", "tcg", "-machine", "q35", "-cpu", "max",
            "-m", str(memory_mib), "-smp", "1", "-nodefaults", "-no-user-config",
            "-display", "none", "-no-reboot",
            "-kernel", str(image.kernel), "-initrd", str(image.initrd),
            "-append", KERNEL_ARGS,
            "-chardev", f"socket,id=serial0,path={sockets / 'serial.sock'},server=on,wait=off",
            "-serial", "chardev:serial0",
            "-qmp", f"unix:{sockets / 'qmp.sock'},server=on,wait=off"]
    for port in range(HOTPLUG_PORTS):
        argv += ["-device", f"pcie-root-port,id={hotplug_port(port)},bus=pcie.0,"
                 f"chassis={port + 1}"]
    for drive in drives:
        argv += drive_args(drive)
    if incoming:
        argv += ["-incoming", incoming]
    return argv
