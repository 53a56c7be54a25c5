"""Filling a bound DataVolume claim: import (http, blank), host-assisted clone, and the
finishing touches of smart clones, walking CDI's phases and leaving the annotations CDI's
worker pods leave on the claim (`storage.pod.phase`, `storage.condition.running*`,
`clonePhase`). The `clone-returns-zeroes` fault zeroes what a clone wrote; the
`import-retry` noise makes the first importer / clone pod fail (restartCount 1, an
`Error` Warning) before the retry succeeds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...dataplane.errors import DataPlaneError
from ..common import Drivers, Obj
from . import annotations as A
from .status import DV, event, write_status

if TYPE_CHECKING:
    from ...context import LabContext

PVC = "persistentvolumeclaims"
RUNNING = ("True", "Pod is running", "")


class Populator:
    def __init__(self, ctx: LabContext, drivers: Drivers, dv: Obj, pvc: Obj) -> None:
        self.ctx, self.drivers, self.dv, self.pvc = ctx, drivers, dv, pvc
        self.name = pvc["metadata"]["name"]
        self.ns = pvc["metadata"]["namespace"]

    @property
    def anns(self) -> dict[str, str]:
        return self.pvc["metadata"].get("annotations") or {}

    def handle(self, pvc: Obj | None = None) -> str:
        pv = self.ctx.store.get("persistentvolumes", None, (pvc or self.pvc)["spec"]["volumeName"])
        return str(pv["spec"]["csi"]["volumeHandle"])

    async def run(self, kind: str) -> float | None:
        if self.anns.get(A.ANN_POD_PHASE) == "Succeeded" or \
                self.anns.get(A.ANN_CLONE_PHASE) == "Succeeded":
            self._succeeded(kind)
            return None
        if (self.dv.get("status") or {}).get("phase") in ("Pending", "PendingPopulation", None):
            event(self.ctx, self.dv, "Bound", f"PVC {self.name} Bound")
        if kind in ("http", "blank"):
            return await self._import(kind)
        if self.anns.get(A.ANN_CLONE_TYPE) == "copy":
            return await self._host_clone()
        return await self._smart_clone_done()

    # ------------------------------------------------------------ import
    async def _import(self, kind: str) -> float | None:
        restarts = int(self.anns.get(A.ANN_POD_RESTARTS, "0"))
        self._annotate({A.ANN_POD_PHASE: "Pending"})
        self._enter("ImportScheduled", f"Import into {self.name} scheduled")
        self._annotate({A.ANN_POD_PHASE: "Running", A.ANN_RUNNING: "true",
                        A.ANN_RUNNING_REASON: "Pod is running", A.ANN_RUNNING_MESSAGE: ""})
        self._enter("ImportInProgress", f"Import into {self.name} in progress",
                    progress="0.00%", running=RUNNING)
        if restarts == 0 and self._noise("import-retry"):  # the first importer pod dies
            url = self.anns.get(A.ANN_ENDPOINT, "")
            return self._import_failed(1, f'Get "{url}": dial tcp: i/o timeout' if
                                       kind == "http" else "context deadline exceeded")
        try:
            if kind == "http":
                await self.ctx.dataplane.populate_from_url(
                    self.handle(), self.anns.get(A.ANN_ENDPOINT, ""), progress=self._progress)
        except DataPlaneError as exc:
            return self._import_failed(restarts + 1, str(exc))
        await self._record_birth()
        self._annotate({A.ANN_POD_PHASE: "Succeeded", A.ANN_RUNNING: "false",
                        A.ANN_RUNNING_REASON: "Completed", A.ANN_RUNNING_MESSAGE:
                        "Import Complete"})
        self._succeeded(kind)
        return None

    def _import_failed(self, restarts: int, message: str,
                       phase: str = "ImportInProgress") -> float:
        self._annotate({A.ANN_POD_PHASE: "Failed", A.ANN_POD_RESTARTS: str(restarts),
                        A.ANN_RUNNING: "false", A.ANN_RUNNING_REASON: "Error",
                        A.ANN_RUNNING_MESSAGE: message})
        meta = self.dv["metadata"]
        self.dv = self.ctx.store.mutate(DV, meta["namespace"], meta["name"],
                                        lambda o: o.setdefault("status", {}).update(
                                            restartCount=restarts))
        write_status(self.ctx, self.dv, self.pvc, phase, running=("False", "Error", message))
        event(self.ctx, self.dv, "Error", f"Unable to process data: {message}", "Warning")
        return min(2.0 * restarts, 30.0)  # CrashLoopBackOff, compressed

    def _progress(self, done: int, total: int | None) -> None:
        """CDI's importer reports progress as 'NN.NN%'; a few updates per import suffice."""
        if not total:
            return
        percent = min(100.0 * done / total, 99.99)
        shown = (self.dv.get("status") or {}).get("progress", "")
        try:
            last = float(shown.rstrip("%"))
        except ValueError:  # "N/A" before the first report
            last = -100.0
        if percent - last < 10.0:
            return
        meta = self.dv["metadata"]
        self.dv = self.ctx.store.mutate(DV, meta["namespace"], meta["name"], lambda o: o[
            "status"].update(progress=f"{percent:.2f}%"))

    # ------------------------------------------------------------ clones
    def _source(self) -> tuple[str, str]:
        ns, _, name = self.anns.get(A.ANN_CLONE_REQUEST, "").partition("/")
        return ns, name

    async def _host_clone(self) -> float | None:
        ns, name = self._source()
        src = self.ctx.store.try_get(PVC, ns, name)
        if not src or (src.get("status") or {}).get("phase") != "Bound":
            self._enter("CloneScheduled", f"Cloning from {ns}/{name} into {self.ns}/{self.name} "
                        "scheduled")
            return 1.0
        self._enter("CloneScheduled", f"Cloning from {ns}/{name} into {self.ns}/{self.name} "
                    "scheduled")
        self._annotate({A.ANN_CLONE_PHASE: "HostClone", A.ANN_POD_PHASE: "Running"})
        self._enter("CloneInProgress", f"Cloning from {ns}/{name} into {self.ns}/{self.name} in "
                    "progress", progress="0.00%", running=RUNNING)
        if self._noise("import-retry") and int(self.anns.get(A.ANN_POD_RESTARTS, "0")) == 0:
            return self._import_failed(1, "error reading clone stream: unexpected EOF",
                                       "CloneInProgress")
        await self._stream(src)
        await self.ctx.dataplane.populate_from_volume(self.handle(), self.handle(src),
                                                      zeroes=self._fault("clone-returns-zeroes"))
        await self._record_birth()
        self._annotate({A.ANN_CLONE_PHASE: "Succeeded", A.ANN_POD_PHASE: "Succeeded"})
        self._succeeded("pvc")
        return None

    async def _smart_clone_done(self) -> float | None:
        """CSI clone and snapshot restore already happened in the CSI layer when bound."""
        ns, name = self._source()
        if self._fault("clone-returns-zeroes") and self.anns.get(A.ANN_CLONE_TYPE) == "snapshot":
            src = self.ctx.store.try_get(PVC, ns, name)
            if src is not None:  # the restore was a clone too: the fault lies about it as well
                await self.ctx.dataplane.populate_from_volume(self.handle(), self.handle(src),
                                                              zeroes=True)
        self._annotate({A.ANN_CLONE_PHASE: "Succeeded"})
        self._delete_temp_snapshot()
        self._succeeded("pvc")
        return None

    def _delete_temp_snapshot(self) -> None:
        name = f"cdi-tmp-{self.dv['metadata']['uid']}"
        if self.ctx.store.try_get("snapshot.storage.k8s.io/volumesnapshots", self.ns, name):
            self.ctx.store.delete("snapshot.storage.k8s.io/volumesnapshots", self.ns, name)

    # ------------------------------------------------------------ helpers
    def _succeeded(self, kind: str) -> None:
        if (self.dv.get("status") or {}).get("phase") == "Succeeded":
            return
        if kind in ("http", "blank"):
            reason, message = "ImportSucceeded", f"Successfully imported into PVC {self.name}"
            done = "Import Complete"
        else:
            ns, name = self._source()
            reason, done = "CloneSucceeded", "Clone Complete"
            message = f"Successfully cloned from {ns}/{name} into {self.ns}/{self.name}"
        event(self.ctx, self.dv, reason, message)
        self.dv = write_status(self.ctx, self.dv, self.pvc, "Succeeded", progress="100.0%",
                               running=("False", "Completed", done))

    def _enter(self, phase: str, message: str, **kwargs: Any) -> None:
        if (self.dv.get("status") or {}).get("phase") != phase:
            event(self.ctx, self.dv, phase, message)
        self.dv = write_status(self.ctx, self.dv, self.pvc, phase, **kwargs)

    def _annotate(self, values: dict[str, str]) -> None:
        self.pvc = self.ctx.store.mutate(
            PVC, self.ns, self.name,
            lambda o: o["metadata"].setdefault("annotations", {}).update(values))

    async def _stream(self, src: Obj) -> None:
        """A host-assisted copy crosses the node's I/O path: its bytes share the class's
        bandwidth with every other copy of the class (dataplane/budget.py)."""
        driver = self.drivers.for_pvc(self.pvc)
        name = (self.pvc.get("spec") or {}).get("storageClassName") or ""
        budget = self.ctx.dataplane.budgets.for_class(name, driver.limits if driver else None)
        await budget.charge(self.ctx.dataplane.allocated_bytes(self.handle(src)))

    def _noise(self, noise: str) -> bool:
        driver = self.drivers.for_pvc(self.pvc)
        return bool(driver and driver.has_noise(noise))

    def _fault(self, fault: str) -> bool:
        driver = self.drivers.for_pvc(self.pvc)
        return bool(driver and driver.has_fault(fault))

    async def _record_birth(self) -> None:
        if self._fault("snapshot-restores-stale-data"):
            await self.ctx.dataplane.record_birth(self.handle())
