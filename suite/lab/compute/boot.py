"""Booting a lab guest for a VMI: cloud-init, tool set, disk links, process start."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from ..events import record_event
from .cloudinit import CloudInitError, GuestConfig, find_user_data, parse_user_data
from .guest import Guest
from .vmifacts import hidden_tools
from .volumes import disks_of

if TYPE_CHECKING:
    from ..store import Store


def _secret_reader(store: Store, namespace: str) -> Any:
    def read(name: str) -> dict[str, str]:
        secret = store.try_get("secrets", namespace, name) or {}
        data = dict(secret.get("data") or {})
        for key, value in (secret.get("stringData") or {}).items():
            data[key] = base64.b64encode(value.encode()).decode()
        return data
    return read


def guest_config(store: Store, vmi: dict[str, Any]) -> GuestConfig:
    """The cloud-init the guest applies; bad user data boots a guest without it."""
    ns = vmi["metadata"]["namespace"]
    try:
        text = find_user_data(vmi["spec"].get("volumes", []), _secret_reader(store, ns))
        return parse_user_data(text)
    except (CloudInitError, ValueError) as exc:
        record_event(store, vmi, "CloudInitFailed", str(exc), type_="Warning",
                     component="virt-launcher")
        return GuestConfig()


async def link_disks(compute: Any, vmi: dict[str, Any], guest: Guest, node: str) -> None:
    """Point every disk with a serial at its volume's device on `node`."""
    ns = vmi["metadata"]["namespace"]
    for disk in disks_of(vmi["spec"]):
        if not disk.serial:
            continue
        pvc = compute.store.try_get("persistentvolumeclaims", ns, disk.claim)
        device = await compute.device_path(pvc, node) if pvc else None
        if device is not None:
            guest.link_disk(disk.serial, device)


async def boot_guest(compute: Any, vmi: dict[str, Any], node: str) -> Guest:
    uid = vmi["metadata"]["uid"]
    cluster = compute.ctx.cluster
    if cluster.guests == "qemu":  # a real VM (suite/lab/compute/qemu)
        from .qemu.boot import boot_qemu_guest
        return await boot_qemu_guest(compute, vmi, node)  # type: ignore[return-value]
    guest = Guest(vmi["metadata"]["name"], compute.guest_root / uid,
                  guest_config(compute.store, vmi), hidden_tools(vmi["spec"], cluster),
                  protect=compute.ctx.state_dir, connected=cluster.connected)
    (guest.dev_root / "dev/disk/by-id").mkdir(parents=True, exist_ok=True)
    await link_disks(compute, vmi, guest, node)
    await guest.start()
    return guest
