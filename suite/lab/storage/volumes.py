"""What the data plane needs to make a volume for a driver: the options every create,
restore and clone shares (encryption key from the class's Secret, limits, overhead).

The passphrase is read from the Secret the StorageClass names, as ceph-csi reads it from
its provisioner secret, so deleting or changing the Secret matters as it would.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from ..drivers import DriverProfile
from .common import fs_overhead

if TYPE_CHECKING:
    from ..context import LabContext

MIB = 1024 * 1024


def round_up_mib(size: int) -> int:
    return -(-size // MIB) * MIB


def provisioned_size(driver: Any, requested: int) -> int:
    """What the driver allocates: whole MiB, or whole GiB for a driver with the
    `capacity-rounds-up` noise (as Ceph RBD and most cloud disks do), so the claim's
    capacity can exceed its request."""
    if driver.has_noise("capacity-rounds-up"):
        return -(-requested // (1024 * MIB)) * 1024 * MIB
    return round_up_mib(requested)


def volume_handle(pvc: dict[str, Any]) -> str:
    """The CSI volume id; short and readable so `state_dir/volumes/<handle>` is easy to find."""
    return f"vol-{pvc['metadata']['uid'][:18]}"


def create_options(ctx: LabContext, driver: DriverProfile, volume_mode: str) -> dict[str, Any]:
    encrypted = driver.encryption == "luks"
    return {"volume_mode": volume_mode, "encrypt": encrypted,
            "key": _passphrase(ctx, driver) if encrypted else None,
            "pretend_encrypted": encrypted and driver.has_fault("encryption-not-applied"),
            "limits": dict(driver.limits) if driver.limits else None,
            "limit_group": driver.name if driver.limits else None,  # the class shares them
            "fs_overhead": fs_overhead(ctx, driver.name)}


def _passphrase(ctx: LabContext, driver: DriverProfile) -> bytes:
    sc = ctx.store.get("storage.k8s.io/storageclasses", None, driver.name)
    params = sc.get("parameters") or {}
    name = str(params.get("csi.storage.k8s.io/provisioner-secret-name") or "")
    namespace = params.get("csi.storage.k8s.io/provisioner-secret-namespace")
    secret = ctx.store.get("secrets", namespace, name)
    return base64.b64decode(secret["data"]["encryptionPassphrase"])
