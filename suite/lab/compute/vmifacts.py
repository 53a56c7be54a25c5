"""What virt-handler reports about a running VMI: migratability, guest OS, interfaces.

Pure functions of the VMI and its claims, so the rules (checked against KubeVirt's
`calculateLiveMigrationCondition`) can be unit-tested without a lab.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from .volumes import Disk, is_shared

GUEST_OS = {"name": "Fedora Linux", "version": "41 (Cloud Edition)",
            "prettyName": "Fedora Linux 41 (Cloud Edition)", "versionId": "41",
            "id": "fedora", "machine": "x86_64"}


def live_migratable(disks: list[Disk], pvcs: dict[str, dict[str, Any]],
                    spec: dict[str, Any]) -> tuple[str, str, str]:
    """(status, reason, message) of the LiveMigratable condition."""
    for disk in disks:
        pvc = pvcs.get(disk.claim)
        if pvc is None:
            return ("False", "DisksNotLiveMigratable",
                    f"cannot migrate VMI: Unable to determine if PVC {disk.claim} is shared, "
                    "live migration requires that all PVCs must be shared (using "
                    "ReadWriteMany access mode)")
        if not is_shared(pvc):
            return ("False", "DisksNotLiveMigratable",
                    f"cannot migrate VMI: PVC {disk.claim} is not shared, live migration "
                    "requires that all PVCs must be shared (using ReadWriteMany access mode)")
    for volume in spec.get("volumes", []):
        if "hostDisk" in volume:
            return ("False", "DisksNotLiveMigratable",
                    "cannot migrate VMI with non-shared HostDisk")
    return ("True", "", "")


def migration_method(spec: dict[str, Any]) -> str:
    """BlockMigration when some writable disk is local to the pod (containerDisk...)."""
    local = ("containerDisk", "emptyDisk", "ephemeral")
    if any(key in volume for volume in spec.get("volumes", []) for key in local):
        return "BlockMigration"
    return "LiveMigration"


def guest_os_info() -> dict[str, Any]:
    uname = os.uname()
    return dict(GUEST_OS, kernelRelease=uname.release, kernelVersion=uname.version)


def mac_for(uid: str) -> str:
    digest = hashlib.sha256(uid.encode()).hexdigest()
    return "02:" + ":".join(digest[i:i + 2] for i in range(0, 10, 2))


def pod_ip(uid: str, node_index: int) -> str:
    value = int(hashlib.sha256(uid.encode()).hexdigest()[:4], 16)
    return f"10.128.{node_index}.{value % 250 + 2}"


def interfaces(spec: dict[str, Any], uid: str, ip: str) -> list[dict[str, Any]]:
    networks = spec.get("networks") or [{"name": "default", "pod": {}}]
    out = []
    for index, network in enumerate(networks):
        entry = {"name": network["name"], "interfaceName": f"eth{index}",
                 "mac": mac_for(uid + network["name"]), "infoSource": "domain, guest-agent",
                 "queueCount": 1, "linkState": "up", "podInterfaceName": "eth0"}
        if index == 0:
            entry.update({"ipAddress": ip, "ipAddresses": [ip]})
        out.append(entry)
    return out


def hidden_tools(spec: dict[str, Any], cluster: Any) -> tuple[str, ...]:
    """The tools the guest's image lacks: fio, unless its containerDisk image is one the
    cluster profile lists with `fio: true` (Fedora Cloud, like most cloud images, has
    none; cloud-init `packages:` can still install it on a connected cluster)."""
    for volume in spec.get("volumes", []):
        image = (volume.get("containerDisk") or {}).get("image")
        facts = cluster.image(image) if image else None
        if facts is not None and facts.fio:
            return ()
    return ("fio",)
