"""The CSI external-attacher: VolumeAttachment -> the data plane's attach to a node.

Refusals are the driver's and the attach-detach controller's: the node's attach limit
(CSINode allocatable.count) and an RWO volume already attached elsewhere (the real
Multi-Attach error). A driver with the `attach-slow` noise takes a few seconds to
answer. Detach happens when the attachment is deleted; the finalizer
`external-attacher/<driver>` holds it until then, as the real sidecar does.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

from ..clock import now_rfc3339
from ..controller import Controller, Key
from ..drivers import DriverProfile
from ..events import record_event
from ..objects import attached_pv, attachments_of
from .common import Drivers, Obj, add_finalizer, remove_finalizer

if TYPE_CHECKING:
    from ..context import LabContext

VA = "storage.k8s.io/volumeattachments"
MULTI_WRITER = ("ReadWriteMany", "ReadOnlyMany")
ATTACH_SLOW_S = 2.0  # `attach-slow`: how long ControllerPublishVolume takes


def finalizer_for(driver_name: str) -> str:
    return "external-attacher/" + re.sub(r"[^a-zA-Z0-9-]", "-", driver_name)


class Attacher:
    def __init__(self, ctx: LabContext, drivers: Drivers) -> None:
        self.ctx, self.drivers, self.store = ctx, drivers, ctx.store
        self.queue = Controller(ctx, "attacher", self.reconcile)
        self._asked: dict[str, float] = {}  # attachment -> when a slow driver was asked

    def start(self) -> None:
        self.queue.watch(VA, self._keys)

    def _keys(self, va: Obj) -> list[Key]:
        """The attachment itself, and the ones of the same volume still waiting (a
        Multi-Attach refusal is retried as soon as the other node lets go)."""
        waiting = [(None, o["metadata"]["name"])
                   for o in attachments_of(self.store, attached_pv(va))
                   if (o.get("status") or {}).get("attachError")]
        return [(None, va["metadata"]["name"]), *waiting]

    async def reconcile(self, key: Key) -> float | None:
        va = self.store.try_get(VA, None, key[1])
        if not va or va["spec"].get("attacher") not in self.drivers.by_provisioner:
            return None
        fin = finalizer_for(va["spec"]["attacher"])
        if va["metadata"].get("deletionTimestamp"):
            await self._detach(va, fin)
            return None
        if (va.get("status") or {}).get("attached"):
            return None
        return await self._attach(va, fin)

    async def _attach(self, va: Obj, fin: str) -> float | None:
        name = va["metadata"]["name"]
        self.store.mutate(VA, None, name, lambda obj: add_finalizer(obj, fin))
        pv = self.store.try_get("persistentvolumes", None, attached_pv(va))
        if pv is None:
            return self._fail(va, "persistentvolume not found; waiting for it to exist")
        driver = self.drivers.by_provisioner[va["spec"]["attacher"]]
        refusal = self._refusal(va, pv, driver)
        if refusal:
            return self._fail(va, refusal)
        if driver.has_noise("attach-slow"):  # ControllerPublishVolume takes a while
            now = asyncio.get_running_loop().time()
            left = self._asked.setdefault(name, now) + ATTACH_SLOW_S - now
            if left > 0:
                return left
            self._asked.pop(name, None)
        handle, node = pv["spec"]["csi"]["volumeHandle"], va["spec"]["nodeName"]
        await self.ctx.dataplane.attach(handle, node)
        device = str(await self.ctx.dataplane.device_path(handle, node))

        def attached(obj: Obj) -> None:
            obj["status"] = {"attached": True, "attachmentMetadata": {"devicePath": device}}

        self.store.mutate(VA, None, name, attached)
        return None

    def _refusal(self, va: Obj, pv: Obj, driver: DriverProfile) -> str | None:
        node, pv_name = va["spec"]["nodeName"], pv["metadata"]["name"]
        others = [o for o in self.store.list(VA)[0]
                  if o["metadata"]["name"] != va["metadata"]["name"]
                  and (o.get("status") or {}).get("attached")]
        elsewhere = [o["spec"]["nodeName"] for o in others
                     if o["spec"]["source"].get("persistentVolumeName") == pv_name
                     and o["spec"]["nodeName"] != node]
        if elsewhere and not set(pv["spec"].get("accessModes") or []) & set(MULTI_WRITER):
            return (f'Multi-Attach error for volume "{pv_name}" Volume is already exclusively '
                    f"attached to one node ({elsewhere[0]}) and can't be attached to another")
        on_node = [o for o in others if o["spec"]["nodeName"] == node
                   and o["spec"].get("attacher") == driver.provisioner]
        limit = self._attach_limit(node, driver.provisioner)
        if limit is not None and len(on_node) >= limit:
            return (f"rpc error: code = ResourceExhausted desc = node {node} has reached the "
                    f"maximum of {limit} volumes attached for driver {driver.provisioner}")
        return None

    def _attach_limit(self, node: str, provisioner: str) -> int | None:
        csinode = self.store.try_get("storage.k8s.io/csinodes", None, node)
        for entry in ((csinode or {}).get("spec") or {}).get("drivers") or []:
            if entry.get("name") == provisioner:
                return (entry.get("allocatable") or {}).get("count")
        return None

    def _fail(self, va: Obj, message: str) -> float:
        def failed(obj: Obj) -> None:
            obj["status"] = {"attached": False,
                             "attachError": {"time": now_rfc3339(), "message": message}}

        obj = self.store.mutate(VA, None, va["metadata"]["name"], failed)
        record_event(self.store, obj, "FailedAttachVolume", message, type_="Warning",
                     component="attachdetach-controller")
        return 2.0  # the attacher retries, as the real one does with backoff

    async def _detach(self, va: Obj, fin: str) -> None:
        pv = self.store.try_get("persistentvolumes", None, attached_pv(va))
        if pv and (va.get("status") or {}).get("attached"):
            await self.ctx.dataplane.detach(pv["spec"]["csi"]["volumeHandle"],
                                            va["spec"]["nodeName"])
        self.store.mutate(VA, None, va["metadata"]["name"],
                          lambda obj: remove_finalizer(obj, fin))
