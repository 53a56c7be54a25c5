"""The CSI external-resizer and the kubelet's node-expansion half, for lab volumes.

Controller expansion grows the volume in the data plane; for Filesystem volumes the node
must then grow the filesystem, which the lab does when the volume is attached to a node
(at once if it already is, else at the next attach): until then the claim shows
FileSystemResizePending, like a real cluster waiting for a pod. `offline` drivers only
expand once no VolumeAttachment holds the volume (a VolumeResizeFailed warning says why
until then). `online-expansion-invisible-to-guest` grows the storage while a running
consumer keeps seeing the old size; so does a cluster without KubeVirt's ExpandDisks
feature gate (virt-handler then never resizes a running domain's disk, and a Filesystem
claim's disk.img never grows at all).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import conditions as cond
from ..conditions import PVC_SHAPE
from ..controller import Controller, Key
from ..events import record_event
from ..objects import attached_pv, attachments_of
from .common import Drivers, Obj, format_quantity, parse_quantity, requested_bytes, volume_mode
from .protection import in_use
from .volumes import provisioned_size

if TYPE_CHECKING:
    from ..context import LabContext

VA = "storage.k8s.io/volumeattachments"
PVC = "persistentvolumeclaims"
NOISE_BACKOFF_S = 2.0  # the external-resizer's retry after a failed call
FS_PENDING_MESSAGE = "Waiting for user to (re-)start a pod to finish file system resize of " \
    "volume on node."


class Resizer:
    def __init__(self, ctx: LabContext, drivers: Drivers) -> None:
        self.ctx, self.drivers, self.store = ctx, drivers, ctx.store
        self.queue = Controller(ctx, "resizer", self.reconcile)
        self._tried: set[tuple[str, int]] = set()  # (claim uid, size) already tried once

    def start(self) -> None:
        self.queue.watch(PVC)
        self.queue.watch(VA, self._claim_of_attachment)

    def _claim_of_attachment(self, va: Obj) -> list[Key]:
        pv = self.store.try_get("persistentvolumes", None, attached_pv(va))
        ref = ((pv or {}).get("spec") or {}).get("claimRef") or {}
        return [(ref["namespace"], ref["name"])] if ref.get("name") else []

    async def reconcile(self, key: Key) -> float | None:
        pvc = self.store.try_get(PVC, key[0], key[1])
        if not pvc or (pvc.get("status") or {}).get("phase") != "Bound":
            return None
        driver = self.drivers.for_pvc(pvc)
        if driver is None or pvc["metadata"].get("deletionTimestamp"):
            return None
        pv = self.store.get("persistentvolumes", None, pvc["spec"]["volumeName"])
        wanted = provisioned_size(driver, requested_bytes(pvc))
        if wanted > parse_quantity(pv["spec"]["capacity"]["storage"]):
            return await self._expand_controller(pvc, pv, wanted, driver.expansion,
                                                 driver.has_fault(
                                                     "online-expansion-invisible-to-guest"))
        if _status_of(pvc) == "NodeResizePending" and self._attached(pv):
            self._finish_node(pvc, pv)
        return None

    def _first_try(self, pvc: Obj, wanted: int) -> bool:
        """True once per claim and size: that ControllerExpandVolume call times out."""
        key = (pvc["metadata"]["uid"], wanted)
        if key in self._tried:
            return False
        self._tried.add(key)
        return True

    def _attachments(self, pv: Obj) -> list[Obj]:
        return attachments_of(self.store, pv["metadata"]["name"])

    def _in_use(self, pvc: Obj, pv: Obj) -> bool:
        """In use as the external-resizer sees it: a running consumer names the claim, or
        the volume is attached to a node and not being released."""
        meta = pvc["metadata"]
        return bool(in_use(self.store, meta["namespace"], meta["name"])) or any(
            not va["metadata"].get("deletionTimestamp") for va in self._attachments(pv))

    def _attached(self, pv: Obj) -> list[Obj]:
        return [va for va in self._attachments(pv) if (va.get("status") or {}).get("attached")]

    async def _expand_controller(self, pvc: Obj, pv: Obj, wanted: int, expansion: str,
                                 invisible: bool) -> float | None:
        in_use = self._in_use(pvc, pv)
        if expansion == "offline" and in_use:
            ns, name = pvc["metadata"]["namespace"], pvc["metadata"]["name"]
            self._event(pvc, "VolumeResizeFailed",
                        f"Unable to expand {ns}/{name} because CSI driver "
                        f"{pv['spec']['csi']['driver']} only supports offline expansion and "
                        "volume is currently in-use", "Warning")
            return 2.0  # the resizer retries; an attachment's removal also brings us back
        driver = self.drivers.for_pvc(pvc)
        if driver is not None and driver.has_noise("resize-retry") and \
                self._first_try(pvc, wanted):
            pvc = self._mark_resizing(pvc, wanted)  # the call went out, then timed out
            self._event(pvc, "VolumeResizeFailed",
                        f'resize volume "{pv["metadata"]["name"]}" by resizer '
                        f'"{driver.provisioner}" failed: rpc error: code = '
                        "DeadlineExceeded desc = context deadline exceeded", "Warning")
            return NOISE_BACKOFF_S
        pvc = self._mark_resizing(pvc, wanted)
        self._event(pvc, "Resizing",
                    f"External resizer is resizing volume {pv['metadata']['name']}")
        # KubeVirt 1.5 resizes a running guest's disk, and grows a Filesystem claim's
        # disk.img at VM start, only with the ExpandDisks gate (GA from KubeVirt 1.9)
        gate = self.ctx.cluster.has_gate("ExpandDisks")
        await self.ctx.dataplane.resize(pv["spec"]["csi"]["volumeHandle"], wanted,
                                        visible_to_consumers=not ((invisible or not gate)
                                                                  and in_use),
                                        grow_disk_img=gate)
        pv = self.store.mutate("persistentvolumes", None, pv["metadata"]["name"],
                               lambda obj: obj["spec"]["capacity"].update(
                                   storage=format_quantity(wanted)))  # node step reads it
        if volume_mode(pvc) == "Filesystem":
            self._node_pending(pvc)
            if self._attached(pv):
                self._finish_node(pvc, pv)
        else:
            self._finish(pvc, wanted, "VolumeResizeSuccessful", "Resize volume succeeded")
        return None

    def _mark_resizing(self, pvc: Obj, wanted: int) -> Obj:
        def change(obj: Obj) -> None:
            status = obj.setdefault("status", {})
            status["allocatedResources"] = {"storage": format_quantity(wanted)}
            status["allocatedResourceStatuses"] = {"storage": "ControllerResizeInProgress"}
            status["conditions"] = status.get("conditions") or []
            cond.put(status["conditions"], "Resizing", "True", **PVC_SHAPE)

        return self._mutate(pvc, change)

    def _node_pending(self, pvc: Obj) -> None:
        def change(obj: Obj) -> None:
            status = obj["status"]
            status["allocatedResourceStatuses"] = {"storage": "NodeResizePending"}
            conditions = cond.drop(status.get("conditions") or [], "Resizing")
            status["conditions"] = conditions
            cond.put(conditions, "FileSystemResizePending", "True", message=FS_PENDING_MESSAGE,
                     **PVC_SHAPE)

        obj = self._mutate(pvc, change)
        self._event(obj, "FileSystemResizeRequired",
                    "Require file system resize of volume on node")

    def _finish_node(self, pvc: Obj, pv: Obj) -> None:
        node = self._attached(pv)[0]["spec"]["nodeName"]
        wanted = parse_quantity(pv["spec"]["capacity"]["storage"])
        pv_name = pv["metadata"]["name"]
        self._finish(pvc, wanted, "FileSystemResizeSuccessful",
                     f'MountVolume.NodeExpandVolume succeeded for volume "{pv_name}" {node}',
                     component="kubelet")

    def _finish(self, pvc: Obj, size: int, reason: str, message: str,
                component: str = "external-resizer") -> None:
        def change(obj: Obj) -> None:
            status = obj["status"]
            status["capacity"] = {"storage": format_quantity(size)}
            status.pop("allocatedResourceStatuses", None)
            conditions = cond.drop(status.get("conditions") or [], "Resizing")
            status["conditions"] = conditions
            cond.drop(conditions, "FileSystemResizePending")
            if not conditions:
                status.pop("conditions")

        obj = self._mutate(pvc, change)
        self._event(obj, reason, message, component=component)

    def _mutate(self, pvc: Obj, change: Any) -> Obj:
        return self.store.mutate(PVC, pvc["metadata"]["namespace"], pvc["metadata"]["name"],
                                 change)

    def _event(self, pvc: Obj, reason: str, message: str, type_: str = "Normal",
               component: str = "external-resizer") -> None:
        driver = self.drivers.for_pvc(pvc)
        comp = f"{component} {driver.provisioner}" if driver and component != "kubelet" \
            else component
        record_event(self.store, pvc, reason, message, type_=type_, component=comp)


def _status_of(pvc: Obj) -> str | None:
    return ((pvc.get("status") or {}).get("allocatedResourceStatuses") or {}).get("storage")
