"""Booting a VMI as a real VM: what virt-launcher does before QEMU starts.

The same inputs as the process runtime (cloud-init from the VMI's volumes, the tools the
image lacks, each serial disk's volume on the node) become a QEMU command line: the
cidata ISO, and every disk's device path (the Block volume's export or the Filesystem
volume's `disk.img`) opened as a raw virtio-blk drive with its serial.
"""

from __future__ import annotations

from typing import Any

from ..boot import _secret_reader, guest_config, link_disks
from ..cloudinit import CloudInitError, find_user_data
from ..vmifacts import hidden_tools
from .guest import QemuGuest


def user_data_text(store: Any, vmi: dict[str, Any]) -> str | None:
    """The user data exactly as KubeVirt writes it to the cidata disk."""
    try:
        return find_user_data(vmi["spec"].get("volumes", []),
                              _secret_reader(store, vmi["metadata"]["namespace"]))
    except (CloudInitError, ValueError):
        return None


async def boot_qemu_guest(compute: Any, vmi: dict[str, Any], node: str) -> QemuGuest:
    uid = vmi["metadata"]["uid"]
    cluster = compute.ctx.cluster
    guest = QemuGuest(vmi["metadata"]["name"], compute.guest_root / uid,
                      guest_config(compute.store, vmi), hidden_tools(vmi["spec"], cluster),
                      connected=cluster.connected,
                      user_data=user_data_text(compute.store, vmi))
    await link_disks(compute, vmi, guest, node)  # type: ignore[arg-type]
    await guest.start()
    return guest
