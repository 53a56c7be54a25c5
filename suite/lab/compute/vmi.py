"""The VirtualMachineInstance controller: virt-controller and virt-handler in one.

Phases follow KubeVirt: Pending (claims and DataVolumes not ready; WaitForFirstConsumer
claims get the chosen node as `volume.kubernetes.io/selected-node`) -> Scheduling (the
virt-launcher pod exists; its volumes attach through VolumeAttachments) -> Scheduled
(pod running) -> Running (the guest process is up). Deletion stops the guest, detaches
the volumes and lets the VMI go; a guest that dies on its own makes the VMI Failed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .. import conditions as cond
from ..events import record_event
from .agent import agent_connected
from .boot import boot_guest
from .launcher import (
    completed_status,
    launcher_pod,
    pending_status,
    pods_of,
    running_status,
)
from .podstart import (
    SCHEDULE_BACKOFF_S,
    bound_a_moment_ago,
    clear_pull_failure,
    missing_user_data_secret,
    report_failed_mount,
    report_pull_failure,
    unbound_claims_message,
    unpullable_image,
    unscheduled,
)
from .runtime import Compute
from .vmifacts import pod_ip
from .vmistatus import running_conditions, with_phase
from .volumes import (
    ANN_SELECTED_NODE,
    attach_state,
    detach,
    disks_of,
    ensure_attached,
    multi_attach_error,
    pv_of,
)

VMI = "kubevirt.io/virtualmachineinstances"
FINALIZER = "kubevirt.io/virtualMachineControllerFinalize"
FINAL = ("Succeeded", "Failed")
SHUTDOWN_S = {False: 1.0, True: 0.3}  # guest power-off time: graceful / grace period 0


class VmiController:
    def __init__(self, compute: Compute) -> None:
        self.compute = compute
        self.store = compute.store
        self._shutdowns: dict[str, float] = {}  # VMI uid -> when its guest is gone
        self._pull_failing: dict[str, float] = {}  # VMI uid -> first failed image pull
        self._held: dict[str, tuple[str, float]] = {}  # VMI uid -> (node, scheduler retry)

    async def reconcile(self, namespace: str, name: str) -> float | None:
        vmi = self.store.try_get(VMI, namespace, name)
        if vmi is None:
            return None
        if vmi["metadata"].get("deletionTimestamp"):
            return await self._finish(vmi)
        phase = vmi.get("status", {}).get("phase", "")
        if phase in FINAL:
            await self.teardown(vmi)
            return None
        step = {"": self._accept, "Pending": self._pending, "Scheduling": self._scheduling,
                "Scheduled": self._boot, "Running": self._running}.get(phase)
        return await step(vmi) if step else None

    # ----------------------------------------------------------------- phases
    async def _accept(self, vmi: dict[str, Any]) -> float | None:
        def accept(obj: dict[str, Any]) -> None:
            finalizers = obj["metadata"].setdefault("finalizers", [])
            if FINALIZER not in finalizers:
                finalizers.append(FINALIZER)
            status = obj.setdefault("status", {})
            status.setdefault("guestOSInfo", {})
            status.setdefault("qosClass", "Burstable")
            with_phase(status, "Pending")
            cond.put(status.setdefault("conditions", []), "Ready", "False", "PodNotExists",
                     "virt-launcher pod has not yet been scheduled")
        self._mutate(vmi, accept)
        return 0.0

    async def _pending(self, vmi: dict[str, Any]) -> float | None:
        disks = disks_of(vmi["spec"])
        pvcs = self.pvcs(vmi)
        missing = [d.claim for d in disks if d.claim not in pvcs]
        dvs_ready = self._dvs_ready(vmi, disks)
        if missing:
            self._set_conditions(vmi, dvs_ready, missing=missing[0])
            return 1.0
        node = self._choose_node(pvcs, vmi["spec"].get("nodeSelector"))
        self._select_node(pvcs, node)
        bound = all(p.get("status", {}).get("phase") == "Bound" for p in pvcs.values())
        self._set_conditions(vmi, dvs_ready, provisioning=not (bound and dvs_ready))
        if not (bound and dvs_ready):
            return 2.0
        self._create_launcher(vmi, node)
        return 0.0

    def _create_launcher(self, vmi: dict[str, Any], node: str) -> None:
        manifest = launcher_pod(vmi, node)
        held = bound_a_moment_ago(self.store, self.compute, self.pvcs(vmi))
        message = unbound_claims_message(len(self.compute.ctx.nodes))
        if held:  # `schedule-backoff`: the scheduler has not seen the bind yet
            manifest = unscheduled(manifest, message)
            self._held[vmi["metadata"]["uid"]] = (
                node, asyncio.get_running_loop().time() + SCHEDULE_BACKOFF_S)
        pod = self.store.create("pods", manifest)
        record_event(self.store, vmi, "SuccessfulCreate",
                     f"Created virtual machine pod {pod['metadata']['name']}",
                     component="virtualmachine-controller")
        if held:
            record_event(self.store, pod, "FailedScheduling", message, type_="Warning",
                         component="default-scheduler")

        def scheduling(obj: dict[str, Any]) -> None:
            status = obj["status"]
            with_phase(status, "Scheduling")
            status["activePods"] = {pod["metadata"]["uid"]: "" if held else node}
            conditions = status.setdefault("conditions", [])
            cond.drop(conditions, "Provisioning")
            if held:
                cond.put(conditions, "PodScheduled", "False", "Unschedulable", message)
        self._mutate(vmi, scheduling)

    def _place_held(self, vmi: dict[str, Any], pod: dict[str, Any]) -> float | None:
        """The scheduler's retry after its backoff: the pod gets its node."""
        node, retry = self._held.get(vmi["metadata"]["uid"], ("", 0.0))
        left = retry - asyncio.get_running_loop().time()
        if left > 0:
            return left
        node = node or self.compute.pick_node()
        self._held.pop(vmi["metadata"]["uid"], None)

        def place(obj: dict[str, Any]) -> None:
            obj["spec"]["nodeName"] = node
            obj["metadata"]["labels"]["kubevirt.io/nodeName"] = node
            obj["status"] = pending_status()
        placed = self.store.mutate("pods", pod["metadata"]["namespace"],
                                   pod["metadata"]["name"], place)
        record_event(self.store, placed, "Scheduled",
                     f"Successfully assigned {placed['metadata']['namespace']}/"
                     f"{placed['metadata']['name']} to {node}", component="default-scheduler")

        def scheduled(obj: dict[str, Any]) -> None:
            obj["status"]["activePods"] = {pod["metadata"]["uid"]: node}
            cond.drop(obj["status"].setdefault("conditions", []), "PodScheduled")
        self._mutate(vmi, scheduled)
        return None

    async def _scheduling(self, vmi: dict[str, Any]) -> float | None:
        pod = self._launcher(vmi)
        if pod is None:
            self._fail(vmi, "virt-launcher pod disappeared before the guest started")
            return None
        if not pod["spec"].get("nodeName"):
            return self._place_held(vmi, pod) or 0.0
        node = pod["spec"]["nodeName"]
        if not self.attach_all(vmi, node, pod):
            return 1.0
        if self._kubelet_stalls(vmi, pod):
            return 1.0
        ip = pod_ip(vmi["metadata"]["uid"], self.compute.node_index(node))
        self.store.mutate("pods", pod["metadata"]["namespace"], pod["metadata"]["name"],
                          lambda p: p.__setitem__("status", running_status(
                              self.compute.node_ip(node), ip)))

        def scheduled(obj: dict[str, Any]) -> None:
            obj["metadata"].setdefault("labels", {})["kubevirt.io/nodeName"] = node
            obj["status"]["nodeName"] = node
            with_phase(obj["status"], "Scheduled")
        self._mutate(vmi, scheduled)
        return 0.0

    def _kubelet_stalls(self, vmi: dict[str, Any], pod: dict[str, Any]) -> bool:
        """A missing cloud-init Secret or an image the cluster cannot pull (podstart.py)."""
        missing = missing_user_data_secret(self.store, vmi)
        if missing is not None:
            report_failed_mount(self.store, pod, *missing)
            return True
        uid = vmi["metadata"]["uid"]
        unpullable = unpullable_image(self.compute.ctx.cluster, vmi)
        if unpullable is not None:
            now = asyncio.get_running_loop().time()
            first = self._pull_failing.setdefault(uid, now)
            report_pull_failure(self.store, vmi, pod, *unpullable, elapsed_s=now - first)
            return True
        self._pull_failing.pop(uid, None)
        clear_pull_failure(self.store, vmi)
        return False

    async def _boot(self, vmi: dict[str, Any]) -> float | None:
        uid = vmi["metadata"]["uid"]
        node = vmi["status"]["nodeName"]
        if uid not in self.compute.guests:
            guest = await boot_guest(self.compute, vmi, node)
            self.compute.guests[uid] = guest
        record_event(self.store, vmi, "Started", "VirtualMachineInstance started.",
                     component="virt-handler")
        pvcs = self.pvcs(vmi)

        def running(obj: dict[str, Any]) -> None:
            running_conditions(obj, pvcs, self.compute.node_index(node),
                               agent_connected(self.compute.guests.get(uid)))
            with_phase(obj["status"], "Running")
        self._mutate(vmi, running)
        return None

    async def _running(self, vmi: dict[str, Any]) -> float | None:
        guest = self.compute.guests.get(vmi["metadata"]["uid"])
        if guest is None or not guest.alive:
            self._fail(vmi, "The guest process is not running")
            return None
        pvcs = self.pvcs(vmi)
        node = vmi["status"]["nodeName"]

        def refresh(obj: dict[str, Any]) -> None:
            running_conditions(obj, pvcs, self.compute.node_index(node),
                               agent_connected(guest))
        self._mutate(vmi, refresh)
        return 5.0

    # --------------------------------------------------------------- volumes
    def attach_all(self, vmi: dict[str, Any], node: str, pod: dict[str, Any]) -> bool:
        """Ensure every claim's volume is attached to `node`; events say why not."""
        ready = True
        for pvc in self.pvcs(vmi).values():
            pv = pv_of(self.store, pvc)
            if pv is None:
                return False
            refused = multi_attach_error(self.store, pvc, pv, node)
            if refused:
                record_event(self.store, pod, "FailedAttachVolume", refused, type_="Warning",
                             component="attachdetach-controller")
                return False
            attached, error = attach_state(ensure_attached(self.store, pv, node))
            if error:
                record_event(self.store, pod, "FailedAttachVolume",
                             f'AttachVolume.Attach failed for volume "{pv["metadata"]["name"]}"'
                             f" : {error}", type_="Warning",
                             component="attachdetach-controller")
            ready = ready and attached
        return ready

    def detach_all(self, vmi: dict[str, Any], node: str) -> None:
        """Detach this VMI's volumes from `node` unless another VMI there still uses them."""
        for pvc in self.pvcs(vmi).values():
            pv = pv_of(self.store, pvc)
            if pv is not None and not self._used_elsewhere(vmi, pvc, node):
                detach(self.store, pv["metadata"]["name"], node)

    def _used_elsewhere(self, vmi: dict[str, Any], pvc: dict[str, Any], node: str) -> bool:
        claim, ns = pvc["metadata"]["name"], pvc["metadata"]["namespace"]
        for other in self.store.list(VMI, ns)[0]:
            if other["metadata"]["uid"] == vmi["metadata"]["uid"]:
                continue
            on_node = other.get("status", {}).get("nodeName") == node
            if on_node and any(d.claim == claim for d in disks_of(other["spec"])):
                return True
        return False

    # ------------------------------------------------------------- teardown
    async def teardown(self, vmi: dict[str, Any]) -> None:
        """Stop the guest, end the launcher pods, detach volumes (idempotent)."""
        guest = self.compute.guests.get(vmi["metadata"]["uid"])
        if guest is not None:
            # shielded: a lab shutdown must not leave a half-killed guest behind
            await asyncio.shield(guest.stop())
            self.compute.guests.pop(vmi["metadata"]["uid"], None)
            record_event(self.store, vmi, "Stopped", "The VirtualMachineInstance was shut down.",
                         component="virt-handler")
        for pod in pods_of(self.store, vmi):
            if pod.get("status", {}).get("phase") in ("Pending", "Running"):
                self.store.mutate("pods", pod["metadata"]["namespace"], pod["metadata"]["name"],
                                  lambda p: p.__setitem__("status", completed_status(
                                      p.get("status", {}))))
            if pod["spec"].get("nodeName"):  # an unschedulable pod never had a node
                self.detach_all(vmi, pod["spec"]["nodeName"])

    async def _finish(self, vmi: dict[str, Any]) -> float | None:
        """A deleted VMI shuts down first (as a guest does on ACPI power-off), so clients
        that look up the old launcher pod right after a stop or restart still find it."""
        uid = vmi["metadata"]["uid"]
        loop = asyncio.get_running_loop()
        grace = vmi["spec"].get("terminationGracePeriodSeconds", 30)
        deadline = self._shutdowns.setdefault(uid, loop.time() + SHUTDOWN_S[grace == 0])
        if uid in self.compute.guests and loop.time() < deadline:
            return deadline - loop.time()
        self._shutdowns.pop(uid, None)
        await self.teardown(vmi)

        def release(obj: dict[str, Any]) -> None:
            status = obj.setdefault("status", {})
            if status.get("phase") not in FINAL:
                with_phase(status, "Succeeded" if status.get("phase") == "Running" else "Failed")
            obj["metadata"]["finalizers"] = [
                f for f in obj["metadata"].get("finalizers", []) if f != FINALIZER]
        self._mutate(vmi, release)
        return None

    def _fail(self, vmi: dict[str, Any], reason: str) -> None:
        record_event(self.store, vmi, "Failed", reason, type_="Warning",
                     component="virt-handler")
        def failed(obj: dict[str, Any]) -> None:
            with_phase(obj["status"], "Failed")
            obj["status"]["reason"] = reason
        self._mutate(vmi, failed)

    # ---------------------------------------------------------------- helpers
    def _mutate(self, vmi: dict[str, Any], change: Any) -> dict[str, Any]:
        meta = vmi["metadata"]
        return self.store.mutate(VMI, meta["namespace"], meta["name"], change)

    def _launcher(self, vmi: dict[str, Any]) -> dict[str, Any] | None:
        pods = [p for p in pods_of(self.store, vmi)
                if "kubevirt.io/migrationJobUID" not in p["metadata"].get("labels", {})]
        return pods[0] if pods else None

    def pvcs(self, vmi: dict[str, Any]) -> dict[str, dict[str, Any]]:
        ns = vmi["metadata"]["namespace"]
        out = {}
        for disk in disks_of(vmi["spec"]):
            pvc = self.store.try_get("persistentvolumeclaims", ns, disk.claim)
            if pvc is not None:
                out[disk.claim] = pvc
        return out

    def _dvs_ready(self, vmi: dict[str, Any], disks: list[Any]) -> bool:
        ns = vmi["metadata"]["namespace"]
        for disk in disks:
            if not disk.from_dv:
                continue
            dv = self.store.try_get("cdi.kubevirt.io/datavolumes", ns, disk.claim)
            if dv is None or dv.get("status", {}).get("phase") != "Succeeded":
                return False
        return True

    def _choose_node(self, pvcs: dict[str, dict[str, Any]],
                     selector: dict[str, str] | None) -> str:
        for pvc in pvcs.values():
            chosen = pvc["metadata"].get("annotations", {}).get(ANN_SELECTED_NODE)
            if chosen in self.compute.ctx.nodes:
                return str(chosen)
        return self.compute.pick_node(selector=selector)

    def _select_node(self, pvcs: dict[str, dict[str, Any]], node: str) -> None:
        """What the scheduler does for WaitForFirstConsumer claims of a pod it places."""
        for pvc in pvcs.values():
            annotations = pvc["metadata"].get("annotations") or {}
            if pvc.get("status", {}).get("phase") == "Bound" or ANN_SELECTED_NODE in annotations:
                continue
            sc = self.store.try_get("storageclasses.storage.k8s.io", None,
                                    pvc["spec"].get("storageClassName") or "")
            if sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer":
                self.store.mutate(
                    "persistentvolumeclaims", pvc["metadata"]["namespace"],
                    pvc["metadata"]["name"],
                    lambda p: p["metadata"].setdefault("annotations", {}).__setitem__(
                        ANN_SELECTED_NODE, node))

    def _set_conditions(self, vmi: dict[str, Any], dvs_ready: bool, *,
                        missing: str | None = None, provisioning: bool = False) -> None:
        has_dvs = any(d.from_dv for d in disks_of(vmi["spec"]))

        def change(obj: dict[str, Any]) -> None:
            conditions = obj["status"].setdefault("conditions", [])
            if missing:
                ns = obj["metadata"]["namespace"]
                cond.put(conditions, "Synchronized", "False", "FailedPvcNotFound",
                         f"PVC {ns}/{missing} does not exist, waiting for it to appear")
            else:
                cond.drop(conditions, "Synchronized")
            if has_dvs:
                if dvs_ready:
                    cond.put(conditions, "DataVolumesReady", "True", "AllDVsReady",
                             "All of the VMI's DVs are bound and ready")
                else:
                    cond.put(conditions, "DataVolumesReady", "False", "NotAllDVsReady",
                             "Not all of the VMI's DVs are ready")
            if provisioning:
                cond.put(conditions, "Provisioning", "True")
            else:
                cond.drop(conditions, "Provisioning")
        self._mutate(vmi, change)

