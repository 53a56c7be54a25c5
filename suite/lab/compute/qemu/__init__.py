"""The lab's QEMU guest runtime (`cluster.guests: qemu`): each VMI is a real VM.

A VMI's compute container runs `qemu-system-x86_64` under TCG with the kernel and
initramfs that `scripts/build_guest_initramfs.sh` builds; disks are virtio-blk drives on
the volume's exported file with KubeVirt's serials; the serial console is the guest's UART.
"""

from .guest import QemuGuest
from .image import GuestImage, GuestImageMissing, find_image

__all__ = ["GuestImage", "GuestImageMissing", "QemuGuest", "find_image"]
