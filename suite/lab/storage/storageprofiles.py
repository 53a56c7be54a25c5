"""CDI's StorageProfile controller: one profile per StorageClass, same name.

Lab classes get the profile bootstrap wrote (their capabilities in spec, as an admin
writes for a provisioner CDI does not know); any other class someone creates gets what
CDI computes for an unknown provisioner: no claimPropertySets, `copy` cloning unless a
VolumeSnapshotClass matches, and the Recognized=False condition. Profiles go with their
class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..controller import Controller, Key
from ..errors import ApiError
from .bootstrap import storage_profile
from .common import Drivers, Obj

if TYPE_CHECKING:
    from ..context import LabContext

SC = "storage.k8s.io/storageclasses"
SP = "cdi.kubevirt.io/storageprofiles"


class StorageProfiles:
    def __init__(self, ctx: LabContext, drivers: Drivers) -> None:
        self.ctx, self.drivers, self.store = ctx, drivers, ctx.store
        self.queue = Controller(ctx, "storageprofiles", self.reconcile)

    def start(self) -> None:
        self.queue.watch(SC)

    async def reconcile(self, key: Key) -> float | None:
        sc = self.store.try_get(SC, None, key[1])
        profile = self.store.try_get(SP, None, key[1])
        if sc is None:
            if profile is not None:
                self.store.delete(SP, None, key[1])
            return None
        if profile is None:
            driver = self.drivers.by_class.get(key[1])
            self._create(storage_profile(driver) if driver else self._unknown(sc))
        return None

    def _create(self, profile: Obj) -> None:
        try:
            self.store.create(SP, profile)
        except ApiError as exc:
            if exc.code != 409:
                raise

    def _unknown(self, sc: Obj) -> Obj:
        snapshot_classes = [c for c in self.store.list(
            "snapshot.storage.k8s.io/volumesnapshotclasses")[0]
            if c.get("driver") == sc.get("provisioner")]
        status: Obj = {"storageClass": sc["metadata"]["name"],
                       "provisioner": sc.get("provisioner"), "claimPropertySets": [],
                       "cloneStrategy": "snapshot" if snapshot_classes else "copy",
                       "dataImportCronSourceFormat": "pvc",
                       "conditions": [{"type": "Recognized", "status": "False",
                                       "reason": "UnrecognizedProvisioner",
                                       "message": "Provisioner is not recognized"}]}
        return {"metadata": {"name": sc["metadata"]["name"]}, "spec": {}, "status": status}
