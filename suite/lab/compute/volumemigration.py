"""KubeVirt's volume migration: a running VM's disk moved to another claim while it runs.

As kubevirt/kubevirt does it (pkg/virt-controller/watch/vm/vm.go, volume-migration.go):
when a VM with `spec.updateVolumesStrategy: Migration` names another claim for a volume
than its running VMI uses, the VM controller validates the change (filesystem,
shareable, LUN and hotplugged volumes cannot move: the VM gets RestartRequired with
"invalid volumes to update with migration: ..."), records the source and destination
in the VMI's `status.migratedVolumes` and the VM's
`status.volumeUpdateState.volumeMigrationState`, and points the VMI's volumes at the new
claims; the VMI shows `VolumesChange` ("migrate volumes") until the migration that
copies the disks has finished.

The lab's migration copies on the node: the guest is paused for the switch-over (as
QEMU's drive mirror pauses for the last pass), the source is flushed and copied onto the
destination, the guest's disk is re-pointed at the destination, the guest resumes.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

from .. import conditions as cond
from ..clock import now_rfc3339
from ..events import record_event
from .hotplug import source_name
from .hotplugctl import through_lab_namespace
from .procs import session_members, stop_until_still
from .runtime import Compute
from .vm import VM, VMI
from .volumes import ANN_SELECTED_NODE, attach_state, ensure_attached, pv_of

CHUNK = 4 << 20
ATTEMPTS = 300  # stop/resume rounds to find the guest clear of the old disk


def updated_volumes(vmi: dict[str, Any], vm: dict[str, Any]) -> dict[str, str]:
    """updatedVolumesMapping: volume name -> new claim, for volumes whose claim changed."""
    template = ((vm.get("spec") or {}).get("template") or {}).get("spec") or {}
    wanted = {v["name"]: source_name(v) for v in template.get("volumes") or []
              if source_name(v)}
    return {v["name"]: wanted[v["name"]] for v in vmi["spec"].get("volumes") or []
            if source_name(v) and v["name"] in wanted and wanted[v["name"]] != source_name(v)}


def invalid_volumes(vmi: dict[str, Any], updated: dict[str, str]) -> str | None:
    """ValidateVolumes' refusal, or None."""
    devices = (vmi["spec"].get("domain") or {}).get("devices") or {}
    disks = {d.get("name"): d for d in devices.get("disks") or []}
    filesystems = {f.get("name") for f in devices.get("filesystems") or []}
    volumes = {v["name"]: v for v in vmi["spec"].get("volumes") or []}
    found: dict[str, list[str]] = {"hotplugged": [], "filesystems": [], "shareable": [],
                                   "luns": []}
    for name in updated:
        volume, disk = volumes.get(name) or {}, disks.get(name) or {}
        if (volume.get("dataVolume") or volume.get("persistentVolumeClaim") or {}).get(
                "hotpluggable"):
            found["hotplugged"].append(name)
        elif name in filesystems:
            found["filesystems"].append(name)
        elif disk.get("shareable"):
            found["shareable"].append(name)
        elif disk.get("lun") is not None:
            found["luns"].append(name)
    if not any(found.values()):
        return None
    text = "invalid volumes to update with migration:"
    for kind, names in found.items():
        if names:
            text += f" {kind}: [{' '.join(names)}]"
    return text


class VolumeMigrationController:
    def __init__(self, compute: Compute) -> None:
        self.compute = compute
        self.store = compute.store

    async def reconcile(self, namespace: str, name: str) -> float | None:
        vm = self.store.try_get(VM, namespace, name)
        vmi = self.store.try_get(VMI, namespace, name)
        if vm is None or vmi is None or (vmi.get("status") or {}).get("phase") != "Running":
            return None
        if cond.is_true((vmi.get("status") or {}).get("conditions") or [], "VolumesChange"):
            return await self._migrate(vmi)
        updated = updated_volumes(vmi, vm)
        if not updated or vm["spec"].get("updateVolumesStrategy") != "Migration":
            return None
        refusal = invalid_volumes(vmi, updated)
        if refusal:
            self._restart_required(vm, refusal)
            return None
        node = vmi["status"].get("nodeName", "")
        if not all(self._ready(namespace, claim, node) for claim in updated.values()):
            return 1.0
        self._start(vm, vmi, updated)
        return 0.2

    def _ready(self, namespace: str, claim: str, node: str) -> bool:
        pvc = self.store.try_get("persistentvolumeclaims", namespace, claim)
        dv = self.store.try_get("cdi.kubevirt.io/datavolumes", namespace, claim)
        if pvc is not None and (pvc.get("status") or {}).get("phase") != "Bound":
            self._consume(pvc, node)
        return pvc is not None and (pvc.get("status") or {}).get("phase") == "Bound" and (
            dv is None or (dv.get("status") or {}).get("phase") == "Succeeded")

    def _consume(self, pvc: dict[str, Any], node: str) -> None:
        """The migration target pod is a WaitForFirstConsumer claim's first consumer: the
        scheduler names its node on the claim."""
        sc = self.store.try_get("storageclasses.storage.k8s.io", None,
                                pvc["spec"].get("storageClassName") or "")
        annotations = pvc["metadata"].get("annotations") or {}
        if sc is None or sc.get("volumeBindingMode") != "WaitForFirstConsumer" or \
                ANN_SELECTED_NODE in annotations or not node:
            return
        self.store.mutate("persistentvolumeclaims", pvc["metadata"]["namespace"],
                          pvc["metadata"]["name"], lambda p: p["metadata"].setdefault(
                              "annotations", {}).__setitem__(ANN_SELECTED_NODE, node))

    def _info(self, namespace: str, claim: str) -> dict[str, Any]:
        pvc = self.store.try_get("persistentvolumeclaims", namespace, claim) or {}
        spec = pvc.get("spec") or {}
        return {"claimName": claim, "volumeMode": spec.get("volumeMode") or "Filesystem",
                "accessModes": spec.get("accessModes") or [],
                "requests": (spec.get("resources") or {}).get("requests") or {},
                "capacity": (pvc.get("status") or {}).get("capacity") or {}}

    def _start(self, vm: dict[str, Any], vmi: dict[str, Any], updated: dict[str, str]) -> None:
        ns = vmi["metadata"]["namespace"]
        old = {v["name"]: source_name(v) for v in vmi["spec"].get("volumes") or []}
        migrated = [{"volumeName": volume, "sourcePVCInfo": self._info(ns, old[volume]),
                     "destinationPVCInfo": self._info(ns, claim)}
                    for volume, claim in sorted(updated.items())]
        template = {v["name"]: v for v in vm["spec"]["template"]["spec"].get("volumes") or []}

        def point(obj: dict[str, Any]) -> None:
            obj["spec"]["volumes"] = [template.get(v["name"], v) if v["name"] in updated
                                      else v for v in obj["spec"].get("volumes") or []]
            status = obj.setdefault("status", {})
            status["migratedVolumes"] = migrated
            cond.put(status.setdefault("conditions", []), "VolumesChange", "True", "",
                     "migrate volumes")
        self.store.mutate(VMI, ns, vmi["metadata"]["name"], point)

        def record(obj: dict[str, Any]) -> None:
            state = obj.setdefault("status", {}).setdefault("volumeUpdateState", {})
            state["volumeMigrationState"] = {"migratedVolumes": migrated}
        self.store.mutate(VM, ns, vm["metadata"]["name"], record, subresource="status")

    async def _migrate(self, vmi: dict[str, Any]) -> float | None:
        ns, node = vmi["metadata"]["namespace"], vmi["status"]["nodeName"]
        guest = self.compute.guests.get(vmi["metadata"]["uid"])
        pairs = []
        for entry in (vmi.get("status") or {}).get("migratedVolumes") or []:
            devices = []
            for side in ("sourcePVCInfo", "destinationPVCInfo"):
                pvc = self.store.try_get("persistentvolumeclaims", ns, entry[side]["claimName"])
                pv = pv_of(self.store, pvc) if pvc else None
                if pvc is None or pv is None:
                    return 1.0
                attached, _ = attach_state(ensure_attached(self.store, pv, node))
                device = await self.compute.device_path(pvc, node) if attached else None
                if device is None:
                    return 1.0
                devices.append(Path(device))
            pairs.append((entry["volumeName"], *devices))
        if guest is None or guest.process is None:
            return 1.0
        serials = {d.get("name"): d.get("serial") for d in
                   ((vmi["spec"].get("domain") or {}).get("devices") or {}).get("disks") or []}
        stopped = await _pause_clear_of(guest.process.pid, [p[1] for p in pairs])
        try:
            for volume, source, target in pairs:
                await asyncio.to_thread(_copy, source, target)
                if serials.get(volume):
                    guest.link_disk(serials[volume], through_lab_namespace(target))
        finally:
            _signal_all(guest.process.pid, signal.SIGCONT, stopped)

        def done(obj: dict[str, Any]) -> None:
            cond.drop(obj["status"].setdefault("conditions", []), "VolumesChange")
            obj["status"]["migrationState"] = {
                "completed": True, "mode": "PreCopy", "startTimestamp": now_rfc3339(),
                "endTimestamp": now_rfc3339(), "sourceNode": node, "targetNode": node}
        self.store.mutate(VMI, ns, vmi["metadata"]["name"], done, subresource="status")
        record_event(self.store, vmi, "Migrated", f"The VirtualMachineInstance migrated its "
                     f"volumes to {', '.join(str(p[2].name) for p in pairs)}",
                     component="virt-handler")
        return None

    def _restart_required(self, vm: dict[str, Any], message: str) -> None:
        def change(obj: dict[str, Any]) -> None:
            cond.put(obj.setdefault("status", {}).setdefault("conditions", []),
                     "RestartRequired", "True", "", message)
        self.store.mutate(VM, vm["metadata"]["namespace"], vm["metadata"]["name"], change,
                          subresource="status")


async def _pause_clear_of(session: int, sources: list[Path]) -> list[int]:
    """Stop every process of the guest at a moment when none holds a source disk open:
    a writer left holding the old disk would write past the switch-over, where QEMU's
    mirror would have carried the write along. Returns the stopped processes.

    Letting a holder finish alone does not work: a `dd` opens its output before it
    reads its input, so it waits on a stopped pipeline, and kept the old disk through
    the copy (one lost block now and then). Neither does one scan: a process forked
    after it ran on, and one stopped inside open() had no descriptor yet. So the whole
    guest is stopped until still (no new process, every one in state T), and resumed
    for a moment and stopped again while any process holds a source."""
    wanted = {(st.st_dev, st.st_ino) for st in (os.stat(p) for p in sources)}
    pids: list[int] = []
    for attempt in range(ATTEMPTS):
        pids = await stop_until_still(session)
        if attempt == ATTEMPTS - 1 or not any(_holds(pid, wanted) for pid in pids):
            break
        _signal_all(session, signal.SIGCONT, pids)
        await asyncio.sleep(0.002 * (1 + attempt % 5))  # varied, so a cycle cannot lock in
    return pids


def _signal_all(session: int, signum: int, pids: list[int] | None = None) -> list[int]:
    pids = session_members(session) if pids is None else pids
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            continue
    return pids


def _holds(pid: int, wanted: set[tuple[int, int]]) -> bool:
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            st = os.stat(fd)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in wanted:
            return True
    return False


def _copy(source: Path, target: Path) -> None:
    """Flush the source, copy it onto the target (as much as the target holds), sync."""
    with open(source, "rb") as src, open(target, "r+b") as dst:
        os.fsync(src.fileno())
        room = os.fstat(dst.fileno()).st_size or os.path.getsize(target)
        left = min(os.fstat(src.fileno()).st_size, room)
        while left > 0:
            data = src.read(min(CHUNK, left))
            if not data:
                break
            dst.write(data)
            left -= len(data)
        dst.flush()
        os.fsync(dst.fileno())

