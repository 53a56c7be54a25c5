"""Live migration of a QEMU guest, as virt-handler drives it through libvirt: the
target virt-launcher's QEMU waits with `-incoming`, the source migrates over QMP while
the guest runs, and a failed migration surfaces in KubeVirt's words with QEMU's reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..volumes import disks_of
from .guest import QemuGuest, QemuMigrationFailed


def failure_reason(desc: str) -> str:
    """virt-handler's failureReason for a failed MigrateToURI3 (libvirt's wording)."""
    return ("Live migration failed error encountered during MigrateToURI3 libvirt api "
            "call: virError(Code=1, Domain=10, Message='internal error: unable to execute "
            f"QEMU command 'migrate': {desc}')")


async def target_paths(compute: Any, vmi: dict[str, Any], node: str) -> dict[str, Path]:
    """Each serial disk's device path on the target node (its volumes are attached)."""
    ns = vmi["metadata"]["namespace"]
    paths: dict[str, Path] = {}
    for disk in disks_of(vmi["spec"]):
        pvc = compute.store.try_get("persistentvolumeclaims", ns, disk.claim)
        device = await compute.device_path(pvc, node) if pvc and disk.serial else None
        if device is not None:
            paths[disk.serial] = device
    return paths


async def migrate_qemu_guest(compute: Any, vmi: dict[str, Any], guest: QemuGuest,
                             node: str, fail: bool, failed: type[Exception]) -> None:
    """Migrate `guest` to `node`; `fail` is the `migration-fails` fault (the target dies
    mid-copy). QEMU's failure raises `failed` with KubeVirt's reason."""
    try:
        await guest.migrate(await target_paths(compute, vmi, node), fail=fail)
    except QemuMigrationFailed as exc:
        raise failed(failure_reason(str(exc))) from None
