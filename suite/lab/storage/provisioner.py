"""The CSI external-provisioner (plus the PV controller's binding half) for lab drivers.

A claim of a lab class gets a PV with a `csi` source and both sides bound, or stays
Pending with the driver's refusal as a Warning event and is retried, as in real life.
WaitForFirstConsumer claims wait for `volume.kubernetes.io/selected-node` (set by
whoever schedules the consumer). dataSource/dataSourceRef from a PVC clones, from a
VolumeSnapshot restores. The `provisioning-hangs` fault accepts and never binds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..controller import Controller, Key
from ..dataplane.errors import DataPlaneError
from ..drivers import DriverProfile
from ..events import record_event
from .common import (
    ANN_BETA_STORAGE_PROVISIONER,
    ANN_BIND_COMPLETED,
    ANN_BOUND_BY_CONTROLLER,
    ANN_PROVISIONED_BY,
    ANN_SELECTED_NODE,
    ANN_STORAGE_PROVISIONER,
    FIN_PROVISIONER_DELETE,
    FIN_PV_PROTECTION,
    FIN_PVC_PROTECTION,
    Drivers,
    Obj,
    add_finalizer,
    format_quantity,
    pv_phase,
    requested_bytes,
    volume_mode,
)
from .volumes import create_options, provisioned_size, volume_handle

if TYPE_CHECKING:
    from ..context import LabContext

COMPONENT = "external-provisioner"
RETRY_S = 5.0
NON_CSI_RESYNC_S = 15.0  # the PV controller's resync period
NOISE_BACKOFF_S = 2.0  # external-provisioner's exponential backoff, first steps


class ProvisionRefused(Exception):
    """The driver said no; the message is what the external-provisioner would print."""


class SourceNotReady(Exception):
    """The clone or restore source is not usable yet; try again shortly."""


class Provisioner:
    def __init__(self, ctx: LabContext, drivers: Drivers) -> None:
        self.ctx, self.drivers, self.store = ctx, drivers, ctx.store
        self.queue = Controller(ctx, "provisioner", self.reconcile)
        self._retried: set[str] = set()  # claims whose first CreateVolume already failed

    def start(self) -> None:
        self.queue.watch("persistentvolumeclaims")

    async def reconcile(self, key: Key) -> float | None:
        pvc = self.store.try_get("persistentvolumeclaims", key[0], key[1])
        if not pvc or pvc["metadata"].get("deletionTimestamp"):
            return None
        driver = self.drivers.for_pvc(pvc)
        if driver is None or (pvc.get("status") or {}).get("phase") == "Bound":
            return None
        pvc = self._claim(pvc, driver)
        if driver.volume_binding_mode == "WaitForFirstConsumer" and \
                ANN_SELECTED_NODE not in (pvc["metadata"].get("annotations") or {}):
            self._event(pvc, "WaitForFirstConsumer",
                        "waiting for first consumer to be created before binding",
                        component="persistentvolume-controller")
            return None
        if not driver.is_csi:
            # the PV controller hands the claim to a provisioner that does not exist
            # (no-provisioner) or never answers for a volume (object buckets): it waits
            self._event(pvc, "ExternalProvisioning", _waiting_message(driver),
                        component="persistentvolume-controller")
            return NON_CSI_RESYNC_S
        return await self._provision(pvc, driver)

    def _claim(self, pvc: Obj, driver: DriverProfile) -> Obj:
        """What the PV controller does first: name the provisioner, protect the claim."""
        meta = pvc["metadata"]
        anns = meta.get("annotations") or {}
        if anns.get(ANN_STORAGE_PROVISIONER) == driver.class_provisioner and \
                FIN_PVC_PROTECTION in (meta.get("finalizers") or []) and pvc.get("status"):
            return pvc

        def change(obj: Obj) -> None:
            a = obj["metadata"].setdefault("annotations", {})
            a[ANN_STORAGE_PROVISIONER] = a[ANN_BETA_STORAGE_PROVISIONER] = \
                driver.class_provisioner
            add_finalizer(obj, FIN_PVC_PROTECTION)
            obj["status"] = obj.get("status") or {"phase": "Pending"}

        return self.store.mutate("persistentvolumeclaims", meta["namespace"], meta["name"],
                                 change)

    async def _provision(self, pvc: Obj, driver: DriverProfile) -> float | None:
        self._event(pvc, "ExternalProvisioning", _waiting_message(driver),
                    component="persistentvolume-controller")
        name = f"{pvc['metadata']['namespace']}/{pvc['metadata']['name']}"
        self._event(pvc, "Provisioning",
                    f'External provisioner is provisioning volume for claim "{name}"')
        try:
            self._check_offered(pvc, driver)
        except ProvisionRefused as exc:
            self._event(pvc, "ProvisioningFailed",
                        f'failed to provision volume with StorageClass "{driver.name}": {exc}',
                        type_="Warning")
            return RETRY_S
        if driver.has_fault("provisioning-hangs"):
            return None  # accepted, and the driver never answers: the claim stays Pending
        existing = self.store.try_get("persistentvolumes", None, f"pvc-{pvc['metadata']['uid']}")
        if existing:  # provisioned on an earlier pass that lost a race while binding
            self._bind(pvc, existing)
            return None
        if driver.has_noise("provision-retry") and pvc["metadata"]["uid"] not in self._retried:
            # the first CreateVolume times out; the external-provisioner backs off, retries
            self._retried.add(pvc["metadata"]["uid"])
            self._event(pvc, "ProvisioningFailed",
                        f'failed to provision volume with StorageClass "{driver.name}": '
                        "rpc error: code = DeadlineExceeded desc = context deadline exceeded",
                        type_="Warning")
            return NOISE_BACKOFF_S
        try:
            pv = await self._create_volume(pvc, driver)
        except (SourceNotReady, DataPlaneError) as exc:
            self._event(pvc, "ProvisioningFailed",
                        f'failed to provision volume with StorageClass "{driver.name}": {exc}',
                        type_="Warning")
            return 1.0 if isinstance(exc, SourceNotReady) else RETRY_S
        self._bind(pvc, pv)
        self._event(pvc, "ProvisioningSucceeded",
                    f"Successfully provisioned volume {pv['metadata']['name']}")
        return None

    def _check_offered(self, pvc: Obj, driver: DriverProfile) -> None:
        mode = volume_mode(pvc)
        access = list((pvc.get("spec") or {}).get("accessModes") or [])
        offered = driver.modes.get(mode)
        if not offered:
            raise ProvisionRefused(
                f"rpc error: code = InvalidArgument desc = {driver.provisioner} does not "
                f"support volume mode {mode}; supported: {', '.join(driver.modes)}")
        missing = [a for a in access if a not in offered]
        if missing or not access:
            raise ProvisionRefused(
                f"rpc error: code = InvalidArgument desc = access mode "
                f"{', '.join(missing) or '(none)'} is not supported for {mode} volumes by "
                f"{driver.provisioner}; supported: {', '.join(offered)}")

    async def _create_volume(self, pvc: Obj, driver: DriverProfile) -> Obj:
        handle = volume_handle(pvc)
        size = provisioned_size(driver, requested_bytes(pvc))
        options = create_options(self.ctx, driver, volume_mode(pvc))
        source = _data_source(pvc)
        dp = self.ctx.dataplane
        if source and source.get("kind") == "VolumeSnapshot":
            snapshot_id, restore_size = self._snapshot_source(pvc, source, size)
            await dp.restore(snapshot_id, handle, max(size, restore_size), **options)
        else:
            clone_of = self._clone_source(pvc, source, size) if source else None
            await dp.create_volume(handle, size, **options)
            if clone_of:
                await self._clone_into(handle, clone_of, driver)
        if driver.has_fault("snapshot-restores-stale-data"):
            await dp.record_birth(handle)
        return self.store.create("persistentvolumes", _pv(pvc, driver, handle, size))

    async def _clone_into(self, handle: str, source: str, driver: DriverProfile) -> None:
        try:
            await self.ctx.dataplane.populate_from_volume(
                handle, source, zeroes=driver.has_fault("clone-returns-zeroes"))
        except DataPlaneError:
            await self.ctx.dataplane.delete_volume(handle)  # a retry starts from scratch
            raise

    def _clone_source(self, pvc: Obj, source: Obj, size: int) -> str | None:
        if source.get("kind") != "PersistentVolumeClaim":
            return None
        src = self.store.try_get("persistentvolumeclaims", pvc["metadata"]["namespace"],
                                 source.get("name", ""))
        if not src or (src.get("status") or {}).get("phase") != "Bound":
            raise SourceNotReady(f"error getting handle for DataSource Type "
                                 f"PersistentVolumeClaim by Name {source.get('name')}: "
                                 "the source PVC is not bound yet")
        src_pv = self.store.get("persistentvolumes", None, src["spec"]["volumeName"])
        if size < requested_bytes(src):
            raise SourceNotReady(f"error getting handle for DataSource Type "
                                 f"PersistentVolumeClaim by Name {source.get('name')}: "
                                 "requested volume size is less than the source volume size")
        return str(src_pv["spec"]["csi"]["volumeHandle"])

    def _snapshot_source(self, pvc: Obj, source: Obj, size: int) -> tuple[str, int]:
        name = source.get("name", "")
        vs = self.store.try_get("snapshot.storage.k8s.io/volumesnapshots",
                                pvc["metadata"]["namespace"], name)
        status = (vs or {}).get("status") or {}
        if not vs or not status.get("readyToUse"):
            raise SourceNotReady(f"error getting handle for DataSource Type VolumeSnapshot "
                                 f"by Name {name}: snapshot {name} is not Ready")
        content = self.store.get("snapshot.storage.k8s.io/volumesnapshotcontents", None,
                                 status["boundVolumeSnapshotContentName"])
        restore_size = int(content["status"]["restoreSize"])
        if size < restore_size:
            raise SourceNotReady(f"requested volume size {size} is less than the size "
                                 f"{restore_size} for the source snapshot {name}")
        return str(content["status"]["snapshotHandle"]), restore_size

    def _bind(self, pvc: Obj, pv: Obj) -> None:
        pv_name, capacity = pv["metadata"]["name"], pv["spec"]["capacity"]["storage"]

        def bind_pvc(obj: Obj) -> None:
            anns = obj["metadata"].setdefault("annotations", {})
            anns[ANN_BIND_COMPLETED] = "yes"
            anns[ANN_BOUND_BY_CONTROLLER] = "yes"
            obj["spec"]["volumeName"] = pv_name
            obj["status"] = {"phase": "Bound", "accessModes": obj["spec"].get("accessModes"),
                             "capacity": {"storage": capacity}}

        self.store.mutate("persistentvolumeclaims", pvc["metadata"]["namespace"],
                          pvc["metadata"]["name"], bind_pvc)
        self.store.mutate("persistentvolumes", None, pv_name,
                          pv_phase("Bound"))

    def _event(self, obj: Obj, reason: str, message: str, *, type_: str = "Normal",
               component: str = "") -> None:
        comp = component or f"{COMPONENT}-{self.drivers.for_pvc(obj).provisioner}"  # type: ignore[union-attr]
        record_event(self.store, obj, reason, message, type_=type_, component=comp)


def _waiting_message(driver: DriverProfile) -> str:
    return (f"Waiting for a volume to be created either by the external provisioner "
            f"'{driver.class_provisioner}' or manually by the system administrator. If volume "
            "creation is delayed, please verify that the volume creation is successful.")


def _data_source(pvc: Obj) -> Obj | None:
    spec = pvc.get("spec") or {}
    source = spec.get("dataSourceRef") or spec.get("dataSource")
    if not source:
        return None
    kind, group = source.get("kind"), source.get("apiGroup") or ""
    if (kind, group) in (("PersistentVolumeClaim", ""),
                         ("VolumeSnapshot", "snapshot.storage.k8s.io")):
        return dict(source)
    return None


def _pv(pvc: Obj, driver: DriverProfile, handle: str, size: int) -> Obj:
    meta, spec = pvc["metadata"], pvc.get("spec") or {}
    mode = volume_mode(pvc)
    csi: Obj = {"driver": driver.provisioner, "volumeHandle": handle,
                "volumeAttributes": {"clusterID": "lab-cluster", "pool": f"{driver.name}-pool",
                                     "imageName": f"csi-{handle}",
                                     "storage.kubernetes.io/csiProvisionerIdentity":
                                         f"lab-{driver.provisioner}"}}
    if mode == "Filesystem":
        csi["fsType"] = "ext4"
    if driver.encryption == "luks":
        secret = {"name": f"{driver.name}-luks-passphrase", "namespace": "openshift-cnv"}
        csi["nodeStageSecretRef"] = csi["controllerExpandSecretRef"] = secret
        csi["volumeAttributes"]["encrypted"] = "true"
    pv_spec: Obj = {
        "accessModes": spec.get("accessModes"), "capacity": {"storage": format_quantity(size)},
        "csi": csi, "persistentVolumeReclaimPolicy": "Delete",
        "storageClassName": driver.name, "volumeMode": mode,
        "claimRef": {"kind": "PersistentVolumeClaim", "apiVersion": "v1",
                     "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"],
                     "resourceVersion": meta["resourceVersion"]}}
    node = (meta.get("annotations") or {}).get(ANN_SELECTED_NODE)
    if node and driver.volume_binding_mode == "WaitForFirstConsumer":
        pv_spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": f"topology.{driver.provisioner}/node", "operator": "In",
             "values": [node]}]}]}}
    return {"metadata": {"name": f"pvc-{meta['uid']}",
                         "annotations": {ANN_PROVISIONED_BY: driver.provisioner,
                                         "volume.kubernetes.io/provisioner-deletion-secret-name":
                                             "", "volume.kubernetes.io/"
                                             "provisioner-deletion-secret-namespace": ""},
                         "finalizers": [FIN_PV_PROTECTION, FIN_PROVISIONER_DELETE]},
            "spec": pv_spec, "status": {"phase": "Pending"}}
