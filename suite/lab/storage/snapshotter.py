"""The snapshot-controller and csi-snapshotter sidecar for lab drivers.

VolumeSnapshot -> VolumeSnapshotContent `snapcontent-<uid>` -> a real copy in the data
plane, with the real finalizers, status fields (the content's creationTime in int
nanoseconds, restoreSize in bytes; the snapshot's as RFC 3339 and a quantity), events
and errors. A driver without a VolumeSnapshotClass never gets a ready snapshot.
`snapshot-restores-stale-data` snapshots the copy kept when the volume was born.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..clock import now_rfc3339
from ..controller import Controller, Key
from ..drivers import DriverProfile
from ..errors import ApiError
from ..events import record_event
from .common import Drivers, Obj, add_finalizer, format_quantity, parse_quantity, remove_finalizer

if TYPE_CHECKING:
    from ..context import LabContext

GROUP = "snapshot.storage.k8s.io"
VS, VSC, VSCLASS = f"{GROUP}/volumesnapshots", f"{GROUP}/volumesnapshotcontents", \
    f"{GROUP}/volumesnapshotclasses"
FIN_VS_BOUND = "snapshot.storage.kubernetes.io/volumesnapshot-bound-protection"
FIN_VSC_BOUND = "snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection"
COMPONENT = "snapshot-controller"
SNAPSHOT_SLOW_S = 2.0  # `snapshot-slow`: cut, but not ready to use, for this long


class SnapshotError(Exception):
    """A reason the snapshot cannot be taken now: (event reason, message)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


class Snapshotter:
    def __init__(self, ctx: LabContext, drivers: Drivers) -> None:
        self.ctx, self.drivers, self.store = ctx, drivers, ctx.store
        self.snapshots = Controller(ctx, "snapshotter", self.reconcile_snapshot)
        self.contents = Controller(ctx, "snapshot-contents", self.reconcile_content)
        self._cut_at: dict[str, float] = {}  # snapshot uid -> when a slow driver cut it

    def start(self) -> None:
        self.snapshots.watch(VS)
        self.contents.watch(VSC)
        self.snapshots.watch(VSC, _snapshot_of)
        self.snapshots.watch("persistentvolumeclaims", self._snapshots_of_claim)

    def _snapshots_of_claim(self, pvc: Obj) -> list[Key]:
        ns, name = pvc["metadata"].get("namespace"), pvc["metadata"]["name"]
        return [(ns, vs["metadata"]["name"]) for vs in self.store.list(VS, ns)[0]
                if not (vs.get("status") or {}).get("readyToUse")
                and vs["spec"]["source"].get("persistentVolumeClaimName") == name]

    async def reconcile_snapshot(self, key: Key) -> float | None:
        vs = self.store.try_get(VS, key[0], key[1])
        if not vs:
            return None
        if vs["metadata"].get("deletionTimestamp"):
            return self._delete_snapshot(vs)
        if (vs.get("status") or {}).get("readyToUse") or \
                not vs["spec"]["source"].get("persistentVolumeClaimName"):
            return None
        try:
            pv, vsclass = self._inputs(vs)
        except SnapshotError as exc:
            self._error(vs, exc)
            return 5.0
        driver = self.drivers.for_pv(pv)
        if driver is None:
            return None  # another driver's volume: not ours to snapshot
        return await self._take(vs, pv, vsclass, driver)

    def _inputs(self, vs: Obj) -> tuple[Obj, Obj]:
        ns, claim = vs["metadata"]["namespace"], vs["spec"]["source"]["persistentVolumeClaimName"]
        pvc = self.store.try_get("persistentvolumeclaims", ns, claim)
        if pvc is None:
            raise SnapshotError("SnapshotPVCSourceMissing",
                                f"PVC {ns}/{claim} is missing; cannot take a snapshot")
        if (pvc.get("status") or {}).get("phase") != "Bound":
            raise SnapshotError("SnapshotContentCreationFailed",
                                f"the PVC {claim} is not yet bound to a PV, will not attempt "
                                "to take a snapshot")
        pv = self.store.get("persistentvolumes", None, pvc["spec"]["volumeName"])
        return pv, self._snapshot_class(vs, pv)

    def _snapshot_class(self, vs: Obj, pv: Obj) -> Obj:
        name = vs["spec"].get("volumeSnapshotClassName")
        driver = (pv["spec"].get("csi") or {}).get("driver", "")
        if name:
            found = self.store.try_get(VSCLASS, None, name)
            if found is None:
                raise SnapshotError("SnapshotContentCreationFailed",
                                    "Failed to create snapshot content with error failed to get "
                                    "input parameters to create snapshot "
                                    f'{vs["metadata"]["name"]}: '
                                    f'"volumesnapshotclass.snapshot.storage.k8s.io \\"{name}\\" '
                                    'not found"')
            return found
        defaults = [c for c in self.store.list(VSCLASS)[0] if c.get("driver") == driver and
                    (c["metadata"].get("annotations") or {}).get(
                        "snapshot.storage.kubernetes.io/is-default-class") == "true"]
        if len(defaults) != 1:
            detail = "cannot find default snapshot class" if not defaults else \
                f"{len(defaults)} default snapshot classes were found"
            raise SnapshotError("SetDefaultSnapshotClassFailed",
                                f"Failed to set default snapshot class with error {detail}")
        return defaults[0]

    async def _take(self, vs: Obj, pv: Obj, vsclass: Obj,
                    driver: DriverProfile) -> float | None:
        meta = vs["metadata"]
        vs = self.store.mutate(VS, meta["namespace"], meta["name"],
                               lambda o: add_finalizer(o, FIN_VS_BOUND))
        content_name = f"snapcontent-{meta['uid']}"
        snapshot_id = f"snapshot-{meta['uid']}"
        content = self.store.try_get(VSC, None, content_name) or \
            self.store.create(VSC, _content(vs, pv, vsclass, content_name))
        cstatus = content.get("status") or {}
        now = time.monotonic()
        if not cstatus.get("snapshotHandle"):
            await self.ctx.dataplane.snapshot(
                pv["spec"]["csi"]["volumeHandle"], snapshot_id,
                from_birth=driver.has_fault("snapshot-restores-stale-data"))
            slow = driver.has_noise("snapshot-slow")
            content = self._content_cut(content_name, snapshot_id, pv, ready=not slow)
            if slow:  # cut (creationTime set), then post-processed for a while
                self._cut_at[meta["uid"]] = now
                self._snapshot_status(vs, content, ready=False)
                return SNAPSHOT_SLOW_S
        elif not cstatus.get("readyToUse"):
            left = self._cut_at.get(meta["uid"], now) + SNAPSHOT_SLOW_S - now
            if left > 0:
                return left
            content = self.store.mutate(VSC, None, content_name,
                                        lambda o: o["status"].update(readyToUse=True))
        self._cut_at.pop(meta["uid"], None)
        self._snapshot_status(vs, content, ready=True)
        return None

    def _content_cut(self, name: str, snapshot_id: str, pv: Obj, ready: bool) -> Obj:
        size = parse_quantity(pv["spec"]["capacity"]["storage"])

        def cut(obj: Obj) -> None:
            obj["status"] = {"snapshotHandle": snapshot_id, "creationTime": time.time_ns(),
                             "restoreSize": size, "readyToUse": ready}

        return self.store.mutate(VSC, None, name, cut)

    def _snapshot_status(self, vs: Obj, content: Obj, ready: bool) -> None:
        meta, cstatus = vs["metadata"], content["status"]
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                time.gmtime(cstatus["creationTime"] / 1e9))

        def status(obj: Obj) -> None:
            obj["status"] = {"boundVolumeSnapshotContentName": content["metadata"]["name"],
                             "creationTime": created, "readyToUse": ready,
                             "restoreSize": format_quantity(cstatus["restoreSize"])}

        vs = self.store.mutate(VS, meta["namespace"], meta["name"], status)
        qualified = f"{meta['namespace']}/{meta['name']}"
        if not self._announced(vs, "SnapshotCreated"):
            record_event(self.store, vs, "SnapshotCreated",
                         f"Snapshot {qualified} was successfully created by the CSI driver.",
                         component=COMPONENT)
        if ready:
            record_event(self.store, vs, "SnapshotReady",
                         f"Snapshot {qualified} is ready to use.", component=COMPONENT)

    def _announced(self, vs: Obj, reason: str) -> bool:
        events = self.store.list("events", vs["metadata"]["namespace"])[0]
        return any(e.get("involvedObject", {}).get("uid") == vs["metadata"]["uid"]
                   and e.get("reason") == reason for e in events)

    def _error(self, vs: Obj, exc: SnapshotError) -> None:
        def failed(obj: Obj) -> None:
            status = obj.setdefault("status", {}) or {}
            status["readyToUse"] = False
            status["error"] = {"time": now_rfc3339(), "message": exc.message}
            obj["status"] = status

        meta = vs["metadata"]
        current = (vs.get("status") or {}).get("error", {}).get("message")
        if current != exc.message:
            vs = self.store.mutate(VS, meta["namespace"], meta["name"], failed)
        record_event(self.store, vs, exc.reason, exc.message, type_="Warning",
                     component=COMPONENT)

    def _delete_snapshot(self, vs: Obj) -> float | None:
        meta = vs["metadata"]
        name = (vs.get("status") or {}).get("boundVolumeSnapshotContentName")
        content = self.store.try_get(VSC, None, name) if name else None
        if content is not None and content["spec"].get("deletionPolicy") == "Delete":
            self._delete_quietly(content["metadata"]["name"])
            return None  # the content's removal brings us back
        self.store.mutate(VS, meta["namespace"], meta["name"],
                          lambda o: remove_finalizer(o, FIN_VS_BOUND))
        return None

    def _delete_quietly(self, name: str) -> None:
        try:
            self.store.delete(VSC, None, name)
        except ApiError as exc:
            if exc.code != 404:
                raise

    async def reconcile_content(self, key: Key) -> float | None:
        content = self.store.try_get(VSC, None, key[1])
        if not content or not content["metadata"].get("deletionTimestamp"):
            return None
        if content["spec"].get("driver") not in self.drivers.by_provisioner:
            return None
        handle = (content.get("status") or {}).get("snapshotHandle")
        if handle and content["spec"].get("deletionPolicy") == "Delete":
            await self.ctx.dataplane.delete_snapshot(handle)
        self.store.mutate(VSC, None, key[1], lambda o: remove_finalizer(o, FIN_VSC_BOUND))
        return None


def _snapshot_of(content: Obj) -> list[Key]:
    ref = (content.get("spec") or {}).get("volumeSnapshotRef") or {}
    return [(ref.get("namespace"), ref["name"])] if ref.get("name") else []


def _content(vs: Obj, pv: Obj, vsclass: Obj, name: str) -> Obj:
    meta = vs["metadata"]
    return {"metadata": {"name": name, "finalizers": [FIN_VSC_BOUND]},
            "spec": {"volumeSnapshotRef": {"kind": "VolumeSnapshot",
                                           "apiVersion": f"{GROUP}/v1",
                                           "namespace": meta["namespace"], "name": meta["name"],
                                           "uid": meta["uid"],
                                           "resourceVersion": meta["resourceVersion"]},
                     "deletionPolicy": vsclass.get("deletionPolicy", "Delete"),
                     "driver": pv["spec"]["csi"]["driver"],
                     "source": {"volumeHandle": pv["spec"]["csi"]["volumeHandle"]},
                     "volumeSnapshotClassName": vsclass["metadata"]["name"],
                     "sourceVolumeMode": pv["spec"].get("volumeMode", "Filesystem")}}
