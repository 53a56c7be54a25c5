"""The cluster-scoped storage objects a real install would have for each lab driver.

A StorageClass shaped like a vendor's (ceph-csi style encryption parameters naming a
Secret with the LUKS passphrase), a CSIDriver, CSINode entries with an attach limit, a
VolumeSnapshotClass when the driver snapshots, the StorageProfile CDI would compute
and the CDI CR that HCO deploys. Discovery in the suite reads exactly these.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

from ..drivers import DriverProfile
from ..errors import ApiError
from .common import (
    ANN_DEFAULT_CLASS,
    ANN_DEFAULT_VIRT_CLASS,
    DEFAULT_FS_OVERHEAD,
    LUKS_SECRET_NAMESPACE,
    Drivers,
    Obj,
)

if TYPE_CHECKING:
    from ..context import LabContext

ATTACH_LIMIT = 16
CDI_NAME = "cdi-kubevirt-hyperconverged"
CDI_VERSION = "v1.62.0"


def snapshot_class_name(driver: DriverProfile) -> str:
    return f"{driver.name}-snapclass"


def luks_passphrase(driver: DriverProfile) -> str:
    """A stable per-class passphrase (the lab's stand-in for a KMS)."""
    return hashlib.sha256(f"lab-luks:{driver.name}".encode()).hexdigest()[:32]


def bootstrap(ctx: LabContext, drivers: Drivers) -> None:
    _ensure(ctx, "namespaces", {"metadata": {"name": LUKS_SECRET_NAMESPACE}})
    for driver in drivers.by_class.values():
        _ensure(ctx, "storage.k8s.io/storageclasses", storage_class(drivers, driver))
        if not driver.is_csi:  # nothing behind the class: no secrets, snapshots, driver
            _ensure(ctx, "cdi.kubevirt.io/storageprofiles", unsupported_profile(driver))
            continue
        if driver.encryption == "luks":
            _ensure(ctx, "secrets", luks_secret(drivers, driver))
        if driver.snapshots:
            _ensure(ctx, "snapshot.storage.k8s.io/volumesnapshotclasses",
                    snapshot_class(driver))
        _ensure(ctx, "cdi.kubevirt.io/storageprofiles", storage_profile(driver))
    for provisioner, driver in drivers.by_provisioner.items():
        _ensure(ctx, "storage.k8s.io/csidrivers", csi_driver(provisioner, driver))
    for node in ctx.nodes:
        _ensure(ctx, "storage.k8s.io/csinodes", csi_node(ctx, node, drivers))
    _ensure(ctx, "cdi.kubevirt.io/cdis", cdi_cr())


def _ensure(ctx: LabContext, ref: str, obj: Obj) -> None:
    try:
        ctx.store.create(ref, obj)
    except ApiError as exc:
        if exc.code != 409:
            raise


def luks_secret(drivers: Drivers, driver: DriverProfile) -> Obj:
    passphrase = base64.b64encode(luks_passphrase(driver).encode()).decode()
    return {"metadata": {"name": drivers.luks_secret_name(driver),
                         "namespace": LUKS_SECRET_NAMESPACE},
            "type": "Opaque", "data": {"encryptionPassphrase": passphrase}}


def storage_class(drivers: Drivers, driver: DriverProfile) -> Obj:
    annotations = {}
    if driver.default:
        annotations[ANN_DEFAULT_CLASS] = "true"
    if driver.default_virt:
        annotations[ANN_DEFAULT_VIRT_CLASS] = "true"
    if not driver.is_csi:
        return {"metadata": {"name": driver.name, "annotations": annotations},
                "provisioner": driver.class_provisioner, "reclaimPolicy": "Delete",
                "volumeBindingMode": driver.volume_binding_mode}
    return {"metadata": {"name": driver.name, "annotations": annotations},
            "provisioner": driver.provisioner, "parameters": _parameters(drivers, driver),
            "reclaimPolicy": "Delete", "allowVolumeExpansion": driver.allow_expansion,
            "volumeBindingMode": driver.volume_binding_mode}


def _parameters(drivers: Drivers, driver: DriverProfile) -> dict[str, str]:
    params = {"clusterID": "lab-cluster", "pool": f"{driver.name}-pool",
              "imageFeatures": "layering", "csi.storage.k8s.io/fstype": "ext4"}
    if driver.encryption == "luks":
        secret = drivers.luks_secret_name(driver)
        params.update({"encrypted": "true", "encryptionKMSID": "lab-secrets-metadata"})
        for role in ("provisioner", "node-stage", "controller-expand"):
            params[f"csi.storage.k8s.io/{role}-secret-name"] = secret
            params[f"csi.storage.k8s.io/{role}-secret-namespace"] = LUKS_SECRET_NAMESPACE
    if driver.limits:
        if "iops" in driver.limits:
            params["qosMaxIOPS"] = str(driver.limits["iops"])
        if "bandwidthMiBs" in driver.limits:
            params["qosMaxBandwidthMiBs"] = str(driver.limits["bandwidthMiBs"])
    return params


def csi_driver(provisioner: str, driver: DriverProfile) -> Obj:
    return {"metadata": {"name": provisioner},
            "spec": {"attachRequired": True, "podInfoOnMount": False,
                     "volumeLifecycleModes": ["Persistent"], "fsGroupPolicy": "File",
                     "storageCapacity": False, "requiresRepublish": False,
                     "seLinuxMount": False}}


def snapshot_class(driver: DriverProfile) -> Obj:
    return {"metadata": {"name": snapshot_class_name(driver),
                         "annotations": {"snapshot.storage.kubernetes.io/is-default-class":
                                         "true"}},
            "driver": driver.provisioner, "deletionPolicy": "Delete",
            "parameters": {"clusterID": "lab-cluster", "pool": f"{driver.name}-pool"}}


def claim_property_sets(driver: DriverProfile) -> list[Obj]:
    """One set per volume mode with its access modes, as CDI lists them."""
    return [{"accessModes": list(access), "volumeMode": mode}
            for mode, access in driver.modes.items()]


def storage_profile(driver: DriverProfile) -> Obj:
    """The profile an admin writes for a provisioner CDI does not know, and its status.

    CDI has no built-in capabilities for lab.io provisioners, so (as on a real cluster
    with a third-party driver) the profile's spec carries them; status mirrors spec.
    """
    spec: Obj = {"claimPropertySets": claim_property_sets(driver),
                 "cloneStrategy": driver.clone,
                 "dataImportCronSourceFormat": "snapshot" if driver.snapshots else "pvc"}
    if driver.snapshots:
        spec["snapshotClass"] = snapshot_class_name(driver)
    status = {"storageClass": driver.name, "provisioner": driver.provisioner, **spec,
              "conditions": [{"type": "Recognized", "status": "False",
                              "reason": "UnrecognizedProvisioner",
                              "message": "Provisioner is not recognized"}]}
    return {"metadata": {"name": driver.name,
                         "labels": {"app": "containerized-data-importer",
                                    "cdi.kubevirt.io": ""}},
            "spec": spec, "status": status}


def unsupported_profile(driver: DriverProfile) -> Obj:
    """CDI's profile for a class it cannot use: no claim property sets (CDI lists
    kubernetes.io/no-provisioner and NooBaa's obc among UnsupportedProvisioners in
    pkg/storagecapabilities, and finds no PVs to learn a no-provisioner class from)."""
    return {"metadata": {"name": driver.name,
                         "labels": {"app": "containerized-data-importer",
                                    "cdi.kubevirt.io": ""}},
            "spec": {}, "status": {"storageClass": driver.name,
                                   "provisioner": driver.class_provisioner}}


def csi_node(ctx: LabContext, node: str, drivers: Drivers) -> Obj:
    entries = [{"name": provisioner, "nodeID": node,
                "topologyKeys": [f"topology.{provisioner}/node"],
                "allocatable": {"count": ATTACH_LIMIT}}
               for provisioner in drivers.by_provisioner]
    meta: Obj = {"name": node}
    node_obj = ctx.store.try_get("nodes", None, node)
    if node_obj:
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": node,
                                    "uid": node_obj["metadata"]["uid"]}]
    return {"metadata": meta, "spec": {"drivers": entries}}


def cdi_cr() -> Obj:
    conditions = [
        {"type": "Available", "status": "True", "reason": "", "message": ""},
        {"type": "Progressing", "status": "False", "reason": "", "message": ""},
        {"type": "Degraded", "status": "False", "reason": "", "message": ""},
    ]
    return {"metadata": {"name": CDI_NAME,
                         "labels": {"app": "kubevirt-hyperconverged",
                                    "app.kubernetes.io/component": "storage",
                                    "app.kubernetes.io/managed-by": "hco-operator",
                                    "app.kubernetes.io/part-of": "hyperconverged-cluster"}},
            "spec": {"config": {"filesystemOverhead": {"global": str(DEFAULT_FS_OVERHEAD)},
                                "featureGates": ["HonorWaitForFirstConsumer",
                                                 "DataVolumeClaimAdoption"]},
                     "uninstallStrategy": "BlockUninstallIfWorkloadsExist",
                     "workload": {}, "infra": {}},
            "status": {"phase": "Deployed", "observedVersion": CDI_VERSION,
                       "operatorVersion": CDI_VERSION, "targetVersion": CDI_VERSION,
                       "conditions": conditions}}
