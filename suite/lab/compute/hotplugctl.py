"""Hotplugged volumes of running VMIs: attachment pods, volumeStatus phases, guest disks.

Follows kubevirt/kubevirt: the VM controller applies `status.volumeRequests` to the VM
template and the running VMI; virt-controller (pkg/virt-controller/watch/vmi) creates
one `hp-volume-*` attachment pod per hotplugged volume on the VMI's node (a
WaitForFirstConsumer claim that is still pending counts as ready to attach, the pod
being its first consumer) and moves the volume through Pending/Bound -> AttachedToNode;
virt-handler mounts it into the launcher (MountedToPod) and the domain gets the disk
(Ready, with its target). Removal runs backwards: UnMountedFromPod, the attachment pod
is deleted (Detaching), then the entry goes. The guest sees the disk as
virtio-<serial> from MountedToPod on, and no longer after the unmount.

Fault `hotplug-disk-invisible`: every phase is reported, Ready included, but the
guest never gets the disk.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from ..clock import now_rfc3339
from ..events import record_event
from ..objects import owner_ref
from .hotplug import apply, hotpluggable, source_name, verify
from .launcher import LAUNCHER_IMAGE, pods_of, running_status
from .runtime import Compute
from .vm import VM, VMI
from .volumes import ANN_SELECTED_NODE, attach_state, detach, ensure_attached, pv_of

FAULT = "hotplug-disk-invisible"
HOTPLUG_LABEL = {"kubevirt.io": "hotplug-disk"}
STEP_S = 0.3  # between two phases, so watchers can see each one
HANDLER, CONTROLLER = "virt-handler", "virtualmachine-controller"


def through_lab_namespace(device: Any) -> Path:
    """The device as the guest must name it. The guest's mount namespace was made before
    this volume's FUSE export was mounted, and the lab's mounts do not propagate into it,
    so the guest reaches the export through the lab process's root (what virt-handler
    achieves by mounting the volume into the launcher's namespace)."""
    return Path(f"/proc/{os.getpid()}/root{os.path.realpath(device)}")


def _serial(spec: dict[str, Any], volume: str) -> str:
    disks = ((spec.get("domain") or {}).get("devices") or {}).get("disks") or []
    return next((str(d.get("serial") or "") for d in disks if d.get("name") == volume), "")


class HotplugController:
    def __init__(self, compute: Compute) -> None:
        self.compute = compute
        self.store = compute.store
        # (VMI uid, volume) -> (serial, device) of a disk the guest was given
        self._given: dict[tuple[str, str], tuple[str, Any]] = {}

    # ------------------------------------------------------------ VM requests
    async def reconcile_vm(self, namespace: str, name: str) -> float | None:
        """Apply queued volume requests to the VM template and its running VMI."""
        vm = self.store.try_get(VM, namespace, name)
        queued = ((vm or {}).get("status") or {}).get("volumeRequests") or []
        if vm is None or not queued:
            return None
        vmi = self.store.try_get(VMI, namespace, name)
        running = vmi is not None and (vmi.get("status") or {}).get("phase") == "Running"

        def template(obj: dict[str, Any]) -> None:
            tmpl = obj["spec"].setdefault("template", {})
            for request in queued:
                tmpl["spec"] = apply(tmpl.get("spec") or {}, request)
            obj["metadata"]["generation"] = obj["metadata"].get("generation", 1) + 1
        self.store.mutate(VM, namespace, name, template, subresource=None)
        if running:
            def hotplug(obj: dict[str, Any]) -> None:
                for request in queued:
                    if verify(obj["spec"].get("volumes") or [], request) is None:
                        obj["spec"] = apply(obj["spec"], request)
            self.store.mutate(VMI, namespace, name, hotplug, subresource=None)
        self.store.mutate(VM, namespace, name,
                          lambda o: o["status"].__setitem__("volumeRequests", []),
                          subresource="status")
        return None

    # -------------------------------------------------------------- VMI side
    async def reconcile(self, namespace: str, name: str) -> float | None:
        vmi = self.store.try_get(VMI, namespace, name)
        if vmi is None or vmi["metadata"].get("deletionTimestamp"):
            return None
        status = vmi.get("status") or {}
        guest = self.compute.guests.get(vmi["metadata"]["uid"])
        if status.get("phase") != "Running" or guest is None:
            return None
        wanted = [v for v in vmi["spec"].get("volumes") or [] if hotpluggable(v)]
        entries = {e["name"]: e for e in status.get("volumeStatus") or []}
        again: float | None = None
        for volume in wanted:
            if await self._plug(vmi, guest, volume, entries.get(volume["name"]) or {}):
                again = STEP_S
        names = {v["name"] for v in wanted}
        for entry in entries.values():
            if entry.get("hotplugVolume") is not None and entry["name"] not in names:
                await self._unplug(vmi, guest, entry)
                again = STEP_S
        return again

    async def _plug(self, vmi: dict[str, Any], guest: Any, volume: dict[str, Any],
                    entry: dict[str, Any]) -> bool:
        """One step for one volume; True while it is not Ready yet."""
        phase, name = entry.get("phase", ""), volume["name"]
        if phase == "Ready":
            return False
        ns, node = vmi["metadata"]["namespace"], vmi["status"]["nodeName"]
        pvc = self.store.try_get("persistentvolumeclaims", ns, source_name(volume))
        pod = self._attachment_pod(vmi, name)
        if phase in ("", "Pending", "Bound"):
            if pvc is None:
                self._set(vmi, name, "Pending", "FailedPvcNotFound", "Unable to determine PVC "
                          "name")
                return True
            bound = (pvc.get("status") or {}).get("phase") == "Bound"
            if not bound and not self._waits_for_consumer(pvc):
                self._set(vmi, name, "Pending", "PVCNotReady", "PVC is in phase ClaimPending")
                return True
            if bound and not self._dv_ready(ns, volume):
                self._set(vmi, name, "Bound", "PVCNotReady", "PVC is in phase Bound")
                return True
            if pod is None:
                pod = self._create_pod(vmi, name, pvc, node)
            message = f"Created hotplug attachment pod {pod['metadata']['name']}, for volume {name}"
            self._set(vmi, name, "AttachedToNode", "SuccessfulCreate", message,
                      attach_pod=pod, event=(CONTROLLER, message))
            return True
        if phase == "AttachedToNode":
            return await self._mount(vmi, guest, name, pvc, pod, node)
        if phase == "MountedToPod":
            message = f"Successfully attach hotplugged volume {name} to VM"
            self._set(vmi, name, "Ready", "VolumeReady", message, event=(HANDLER, message))
        return True

    async def _mount(self, vmi: dict[str, Any], guest: Any, name: str,
                     pvc: dict[str, Any] | None, pod: dict[str, Any] | None,
                     node: str) -> bool:
        """virt-handler's part: once the node has the volume, the launcher gets it."""
        if pvc is None or pod is None or (pvc.get("status") or {}).get("phase") != "Bound":
            return True
        if not self._dv_ready(vmi["metadata"]["namespace"], self._volume(vmi, name)):
            return True  # a WaitForFirstConsumer DataVolume still being populated
        pv = pv_of(self.store, pvc)
        if pv is None:
            return True
        attached, error = attach_state(ensure_attached(self.store, pv, node))
        if error:
            record_event(self.store, pod, "FailedAttachVolume",
                         f'AttachVolume.Attach failed for volume "{pv["metadata"]["name"]}" : '
                         f"{error}", type_="Warning", component="attachdetach-controller")
        if not attached:
            return True
        if (pod.get("status") or {}).get("phase") != "Running":
            self._pod_running(pod, node)
        serial = _serial(vmi["spec"], name)
        device = await self.compute.device_path(pvc, node)
        if serial and device is not None and not self.compute.has_fault(pvc, FAULT):
            guest.link_disk(serial, through_lab_namespace(device))
            self._given[(vmi["metadata"]["uid"], name)] = (serial, device)
        message = f"Volume {name} has been mounted in virt-launcher pod"
        self._set(vmi, name, "MountedToPod", "VolumeMountedToPod", message,
                  attach_pod=self._attachment_pod(vmi, name), event=(HANDLER, message))
        return True

    async def _unplug(self, vmi: dict[str, Any], guest: Any, entry: dict[str, Any]) -> None:
        name, phase = entry["name"], entry.get("phase", "")
        pod = self._attachment_pod(vmi, name)
        if phase not in ("UnMountedFromPod", "Detaching"):
            given = self._given.pop((vmi["metadata"]["uid"], name), None)
            if given is not None:
                guest.unlink_disk(given[0])
            message = f"Volume {name} has been unmounted from virt-launcher pod"
            self._set(vmi, name, "UnMountedFromPod", "VolumeUnMountedFromPod", message,
                      event=(HANDLER, message))
            return
        if pod is not None and phase == "UnMountedFromPod":
            message = f"Deleted hotplug attachment pod {pod['metadata']['name']}, for volume {name}"
            self._set(vmi, name, "Detaching", "SuccessfulDelete", message,
                      event=(CONTROLLER, message))
            claim = ((entry.get("persistentVolumeClaimInfo") or {}).get("claimName")
                     or self._claim_of_pod(pod, name))
            self.store.delete("pods", pod["metadata"]["namespace"], pod["metadata"]["name"])
            self._detach(vmi, claim)
            return
        if pod is None or phase == "Detaching":
            if pod is not None:
                self.store.delete("pods", pod["metadata"]["namespace"], pod["metadata"]["name"])
            self._drop(vmi, name)

    # ------------------------------------------------------------------ pods
    def _attachment_pod(self, vmi: dict[str, Any], volume: str) -> dict[str, Any] | None:
        launchers = {p["metadata"]["uid"] for p in pods_of(self.store, vmi)}
        items, _ = self.store.list("pods", vmi["metadata"]["namespace"],
                                   label_selector="kubevirt.io=hotplug-disk")
        for pod in items:
            owners = {o.get("uid") for o in pod["metadata"].get("ownerReferences") or []}
            if owners & launchers and not pod["metadata"].get("deletionTimestamp") and any(
                    v.get("name") == volume for v in pod["spec"].get("volumes") or []):
                return pod  # type: ignore[no-any-return]
        return None

    def _create_pod(self, vmi: dict[str, Any], volume: str, pvc: dict[str, Any],
                    node: str) -> dict[str, Any]:
        launcher = next(p for p in pods_of(self.store, vmi)
                        if (p.get("status") or {}).get("phase") == "Running")
        ns = vmi["metadata"]["namespace"]
        claim = pvc["metadata"]["name"]
        if (pvc.get("status") or {}).get("phase") != "Bound":  # the scheduler's part
            self.store.mutate("persistentvolumeclaims", ns, claim,
                              lambda p: p["metadata"].setdefault("annotations", {})
                              .setdefault(ANN_SELECTED_NODE, node))
        pod = self.store.create("pods", {
            "metadata": {"name": f"hp-volume-{secrets.token_hex(3)[:5]}", "namespace": ns,
                         "labels": dict(HOTPLUG_LABEL),
                         "ownerReferences": [owner_ref(launcher)]},
            "spec": {"nodeName": node, "restartPolicy": "Never",
                     "affinity": {"nodeAffinity": {
                         "requiredDuringSchedulingIgnoredDuringExecution": {
                             "nodeSelectorTerms": [{"matchExpressions": [{
                                 "key": "kubernetes.io/hostname", "operator": "In",
                                 "values": [node]}]}]}}},
                     "containers": [{"name": "hotplug-disk", "image": LAUNCHER_IMAGE,
                                     "command": ["/bin/sh", "-c", "tail -f /dev/null"]}],
                     "volumes": [{"name": volume, "persistentVolumeClaim": {
                         "claimName": claim}}]},
            "status": {"phase": "Pending", "qosClass": "Guaranteed"}})
        record_event(self.store, vmi, "SuccessfulCreate",
                     f"Created attachment pod {pod['metadata']['name']}", component=CONTROLLER)
        return pod  # type: ignore[no-any-return]

    def _pod_running(self, pod: dict[str, Any], node: str) -> None:
        def run(obj: dict[str, Any]) -> None:
            status = running_status(self.compute.node_ip(node), "")
            for item in status["containerStatuses"]:
                item["name"] = "hotplug-disk"
            status.pop("podIP"), status.pop("podIPs")
            status["startTime"] = now_rfc3339()
            obj["status"] = status
        self.store.mutate("pods", pod["metadata"]["namespace"], pod["metadata"]["name"], run)

    @staticmethod
    def _claim_of_pod(pod: dict[str, Any], volume: str) -> str:
        for item in pod["spec"].get("volumes") or []:
            if item.get("name") == volume:
                return str((item.get("persistentVolumeClaim") or {}).get("claimName", ""))
        return ""

    def _detach(self, vmi: dict[str, Any], claim: str) -> None:
        pvc = self.store.try_get("persistentvolumeclaims", vmi["metadata"]["namespace"], claim)
        pv = pv_of(self.store, pvc) if pvc else None
        node = (vmi.get("status") or {}).get("nodeName")
        if pv is not None and node:
            detach(self.store, pv["metadata"]["name"], node)

    # ---------------------------------------------------------------- status
    def _set(self, vmi: dict[str, Any], volume: str, phase: str, reason: str, message: str,
             *, attach_pod: dict[str, Any] | None = None,
             event: tuple[str, str] | None = None) -> None:
        changed = False

        def change(obj: dict[str, Any]) -> None:
            nonlocal changed
            entries = obj.setdefault("status", {}).setdefault("volumeStatus", [])
            entry = next((e for e in entries if e.get("name") == volume), None)
            if entry is None:
                entry = {"name": volume, "target": ""}
                entries.append(entry)
                entries.sort(key=lambda e: e["name"])
            hotplug = entry.setdefault("hotplugVolume", {})
            if attach_pod is not None:
                hotplug["attachPodName"] = attach_pod["metadata"]["name"]
                if (attach_pod.get("status") or {}).get("phase") == "Running":
                    hotplug["attachPodUID"] = attach_pod["metadata"]["uid"]
            changed = (entry.get("phase"), entry.get("reason")) != (phase, reason)
            entry.update(phase=phase, reason=reason, message=message)
        meta = vmi["metadata"]
        self.store.mutate(VMI, meta["namespace"], meta["name"], change, subresource="status")
        if changed and event is not None:
            component, text = event
            record_event(self.store, vmi, reason, text, component=component)

    def _drop(self, vmi: dict[str, Any], volume: str) -> None:
        def change(obj: dict[str, Any]) -> None:
            status = obj.setdefault("status", {})
            status["volumeStatus"] = [e for e in status.get("volumeStatus") or []
                                      if e.get("name") != volume]
        meta = vmi["metadata"]
        self.store.mutate(VMI, meta["namespace"], meta["name"], change, subresource="status")

    def _dv_ready(self, namespace: str, volume: dict[str, Any] | None) -> bool:
        """A DataVolume source must have Succeeded (its disk written) before it attaches."""
        if volume is None or not volume.get("dataVolume"):
            return True
        dv = self.store.try_get("cdi.kubevirt.io/datavolumes", namespace, source_name(volume))
        return dv is not None and (dv.get("status") or {}).get("phase") == "Succeeded"

    @staticmethod
    def _volume(vmi: dict[str, Any], name: str) -> dict[str, Any] | None:
        return next((v for v in vmi["spec"].get("volumes") or [] if v.get("name") == name),
                    None)

    def _waits_for_consumer(self, pvc: dict[str, Any]) -> bool:
        sc = self.store.try_get("storageclasses.storage.k8s.io", None,
                                pvc["spec"].get("storageClassName") or "")
        return sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer"
