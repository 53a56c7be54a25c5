"""Live migration: the VirtualMachineInstanceMigration controller (its webhooks are in
suite.lab.admission.kubevirt_migration).

Phases as KubeVirt's migration controller drives them: Pending -> Scheduling (target
virt-launcher pod created) -> Scheduled (its volumes attached on the target node, pod
running) -> PreparingTarget -> TargetReady -> Running (migrationState.startTimestamp)
-> Succeeded, with `phaseTransitionTimestamps` and the VMI's `migrationState`. A process
guest survives: only its disk links move to the target node's devices. A QEMU guest
migrates for real and its migrationState follows QEMU's job step by step, with
virt-launcher's monitor aborting a stuck copy (compute/qemu/migrate.py). The source
pod ends Completed and the source attachments go. A class with the `migration-fails`
fault ends Failed with the VMI still on its source. When no other worker fits (one
schedulable node), the target pod stays Pending Unschedulable with the scheduler's
message, the migration stays Scheduling with MigrationTargetPodUnschedulable Warnings,
and after KubeVirt's unschedulable timeout (300 s, or the migration's
`kubevirt.io/migrationUnschedulablePodTimeoutSeconds`) the pod is deleted and the
migration fails (kubevirt pkg/virt-controller/watch/migration/migration.go).
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..admission.kubevirt_migration import migration_admission
from ..clock import now_rfc3339_micro
from ..events import record_event
from .boot import link_disks
from .launcher import completed_status, launcher_pod, pods_of, running_status
from .qemu.guest import QemuGuest
from .qemu.migrate import ABORTED, LabWatch, failure_reason, migrate_qemu_guest, monitor_for
from .runtime import Compute
from .unschedulable import fit_error, unschedulable_status
from .vmi import VmiController
from .vmistatus import with_phase

VMI = "kubevirt.io/virtualmachineinstances"
VMIM = "kubevirt.io/virtualmachineinstancemigrations"
LABEL_VMI = "kubevirt.io/vmi-name"
FINAL = ("Succeeded", "Failed")
FAULT_REASON = failure_reason("Unable to write to socket: Broken pipe")  # the target died
MIGRATION_CONFIGURATION = {"allowAutoConverge": False, "allowPostCopy": False,
                           "bandwidthPerMigration": "0Mi", "completionTimeoutPerGiB": 150,
                           "progressTimeout": 150}
COPY_SECONDS = 0.3  # the memory copy; the lab guest has little to copy
ANN_UNSCHEDULABLE_TIMEOUT = "kubevirt.io/migrationUnschedulablePodTimeoutSeconds"
UNSCHEDULABLE_TIMEOUT_S = 300
REMOVED = "Migration target pod was removed during active migration."


class MigrationFailed(Exception):
    """Ends a migration Failed with this message as the reason."""


def admit(store: Any) -> Any:
    """migration-create/update-validator: the webhooks live in suite.lab.admission."""
    return migration_admission(store)


class MigrationController:
    def __init__(self, compute: Compute, vmis: VmiController) -> None:
        self.compute = compute
        self.store = compute.store
        self.vmis = vmis
        self.tasks: dict[str, asyncio.Task[Any]] = {}
        self.uids: dict[tuple[str, str], str] = {}

    async def reconcile(self, namespace: str, name: str) -> float | None:
        vmim = self.store.try_get(VMIM, namespace, name)
        if vmim is None or vmim["metadata"].get("deletionTimestamp"):
            # deleting an unfinished migration aborts it, as in KubeVirt
            task = self.tasks.get(self.uids.pop((namespace, name), ""))
            if task is not None:
                task.cancel()
            return None
        uid, phase = vmim["metadata"]["uid"], vmim.get("status", {}).get("phase", "")
        if phase in FINAL or uid in self.tasks:
            return None
        if phase:
            self._finish(vmim, None, "Migration lost its controller (lab restarted)")
            return None
        self.store.mutate(VMIM, namespace, name, lambda o: o["metadata"].setdefault(
            "labels", {}).__setitem__(LABEL_VMI, o["spec"].get("vmiName", "")))
        self._phase(vmim, "Pending")
        task = asyncio.get_running_loop().create_task(self._run(namespace, name))
        self.tasks[uid] = task
        self.uids[(namespace, name)] = uid
        task.add_done_callback(lambda _t: self.tasks.pop(uid, None))
        return None

    async def _run(self, namespace: str, name: str) -> None:
        vmim = self.store.get(VMIM, namespace, name)
        vmi = self.store.try_get(VMI, namespace, vmim["spec"]["vmiName"])
        target_pod = None
        try:
            if vmi is None:
                raise MigrationFailed("Migration failed because vmi does not exist.")
            if vmi.get("status", {}).get("phase") != "Running":
                raise MigrationFailed("Migration failed because vmi is not running.")
            target_pod = await self._prepare_target(vmim, vmi)
            await self._transfer(vmim, vmi, target_pod)
        except MigrationFailed as exc:
            await self._abandon(vmim, vmi, target_pod, str(exc))
        except asyncio.CancelledError:
            await self._abandon(vmim, vmi, target_pod, ABORTED, requested=True)
            raise

    async def _prepare_target(self, vmim: dict[str, Any], vmi: dict[str, Any]) -> dict[str, Any]:
        source = vmi["status"]["nodeName"]
        selector = dict(vmi["spec"].get("nodeSelector") or {})
        selector.update(vmim["spec"].get("addedNodeSelector") or {})
        if not self.compute.fitting_nodes(avoid=source, selector=selector):
            await self._unschedulable(vmim, vmi, source, selector)
        target = self.compute.pick_node(avoid=source, selector=selector)
        pod = self.store.create("pods", launcher_pod(vmi, target, vmim["metadata"]["uid"]))
        self._phase(vmim, "Scheduling")
        for _ in range(300):
            if self.vmis.attach_all(vmi, target, pod):
                break
            if self._refused(pod):
                raise MigrationFailed(REMOVED)
            await asyncio.sleep(0.1)
        else:
            raise MigrationFailed("Timed out waiting for the target pod's volumes to attach")
        self.store.mutate("pods", pod["metadata"]["namespace"], pod["metadata"]["name"],
                          lambda p: p.__setitem__("status", running_status(
                              self.compute.node_ip(target), "10.128.9.9")))
        self._phase(vmim, "Scheduled")
        return pod

    async def _unschedulable(self, vmim: dict[str, Any], vmi: dict[str, Any], source: str,
                             selector: dict[str, str]) -> None:
        """A target pod no node accepts, until KubeVirt's timeout removes it (raises)."""
        nodes = [self.store.get("nodes", None, n) for n in self.compute.ctx.nodes]
        message = fit_error(nodes, source, selector)
        manifest = launcher_pod(vmi, "", vmim["metadata"]["uid"])
        manifest["spec"].pop("nodeName")
        manifest["metadata"]["labels"].pop("kubevirt.io/nodeName")
        manifest["status"] = unschedulable_status(message)
        pod = self.store.create("pods", manifest)
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        record_event(self.store, pod, "FailedScheduling", message, type_="Warning",
                     component="default-scheduler")
        self._phase(vmim, "Scheduling")
        annotations = vmim["metadata"].get("annotations") or {}
        try:
            timeout = int(annotations.get(ANN_UNSCHEDULABLE_TIMEOUT, UNSCHEDULABLE_TIMEOUT_S))
        except ValueError:
            timeout = UNSCHEDULABLE_TIMEOUT_S
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while loop.time() < deadline:
                record_event(self.store, vmim, "MigrationTargetPodUnschedulable",
                             f"Migration target pod for VMI [{ns}/{vmi['metadata']['name']}] "
                             "is currently unschedulable.", type_="Warning",
                             component="virtualmachine-controller")
                await asyncio.sleep(min(1.0, max(0.0, deadline - loop.time())))
        finally:
            self._delete_pod(ns, name)
        record_event(self.store, vmim, "SuccessfulDelete",
                     f"unschedulable pod {ns}/{name} timeout period exceeded",
                     component="virtualmachine-controller")
        raise MigrationFailed(REMOVED)

    def _delete_pod(self, namespace: str, name: str) -> None:
        if self.store.try_get("pods", namespace, name) is not None:
            self.store.delete("pods", namespace, name)

    def _refused(self, pod: dict[str, Any]) -> bool:
        events, _ = self.store.list("events", pod["metadata"]["namespace"])
        return any(e.get("involvedObject", {}).get("uid") == pod["metadata"]["uid"]
                   and e.get("reason") == "FailedAttachVolume" for e in events)

    async def _transfer(self, vmim: dict[str, Any], vmi: dict[str, Any],
                        target_pod: dict[str, Any]) -> None:
        target = target_pod["spec"]["nodeName"]
        source_pod = next((p for p in pods_of(self.store, vmi)
                           if p["status"].get("phase") == "Running"
                           and p["metadata"]["uid"] != target_pod["metadata"]["uid"]), None)
        state = {"migrationUid": vmim["metadata"]["uid"], "sourceNode": vmi["status"]["nodeName"],
                 "targetNode": target, "targetPod": target_pod["metadata"]["name"],
                 "sourcePod": (source_pod or {}).get("metadata", {}).get("name", "")}
        fails = any(self.compute.has_fault(p, "migration-fails") for p in self._pvcs(vmi))
        # completed / failed are omitempty bools in KubeVirt: absent until true
        self._vmi_state(vmi, state)
        self._phase(vmim, "PreparingTarget")

        async def target_ready() -> None:  # the target's QEMU waits for the copy
            self._target_address(state, target)
            self._vmi_state(vmi, state)
            self._phase(vmim, "TargetReady")

        async def started() -> None:  # the copy runs; the incoming domain exists
            state["targetNodeDomainDetected"] = True
            self._started(vmim, vmi, state)

        guest = self.compute.guests.get(vmi["metadata"]["uid"])
        if isinstance(guest, QemuGuest):  # a real live migration (compute/qemu/migrate.py)
            watch = LabWatch(target_ready, started, monitor_for(vmi, MIGRATION_CONFIGURATION))
            await migrate_qemu_guest(self.compute, vmi, guest, target, fails, watch,
                                     MigrationFailed)
        else:  # a process guest: its memory stays; only the disks move (in _switch)
            await target_ready()
            await started()
            await asyncio.sleep(COPY_SECONDS)
            if fails:
                raise MigrationFailed(FAULT_REASON)
        state["targetNodeDomainReadyTimestamp"] = now_rfc3339_micro()  # runs on the target
        self._vmi_state(vmi, state)
        await self._switch(vmim, vmi, state, source_pod, target_pod)

    def _target_address(self, state: dict[str, Any], target: str) -> None:
        state.update(targetNodeAddress=self.compute.node_ip(target),
                     targetDirectMigrationNodePorts={"38421": 0, "44537": 49152})

    def _started(self, vmim: dict[str, Any], vmi: dict[str, Any], state: dict[str, Any]) -> None:
        """virt-launcher started the job: the migration is Running."""
        state.update(startTimestamp=now_rfc3339_micro(), mode="PreCopy",
                     migrationConfiguration=dict(MIGRATION_CONFIGURATION))
        self._vmi_state(vmi, state)
        self._phase(vmim, "Running")

    async def _switch(self, vmim: dict[str, Any], vmi: dict[str, Any], state: dict[str, Any],
                      source_pod: dict[str, Any] | None, target_pod: dict[str, Any]) -> None:
        target, source = state["targetNode"], state["sourceNode"]
        guest = self.compute.guests.get(vmi["metadata"]["uid"])
        if guest is None:
            raise MigrationFailed("Migration failed because vmi does not exist.")
        await link_disks(self.compute, vmi, guest, target)
        state.update(completed=True, endTimestamp=now_rfc3339_micro())

        def moved(obj: dict[str, Any]) -> None:
            obj["metadata"].setdefault("labels", {})["kubevirt.io/nodeName"] = target
            obj["status"]["nodeName"] = target
            obj["status"]["migrationState"] = dict(state)
            obj["status"]["activePods"] = {target_pod["metadata"]["uid"]: target}
        self.store.mutate(VMI, vmi["metadata"]["namespace"], vmi["metadata"]["name"], moved)
        if source_pod is not None:
            self.store.mutate("pods", source_pod["metadata"]["namespace"],
                              source_pod["metadata"]["name"],
                              lambda p: p.__setitem__("status", completed_status(p["status"])))
        self.vmis.detach_all(self.store.get(VMI, vmi["metadata"]["namespace"],
                                            vmi["metadata"]["name"]), source)
        record_event(self.store, vmim, "SuccessfulMigration",
                     "Source node reported migration succeeded",
                     component="virtualmachine-controller")
        self._finish(vmim, state, None)

    async def _abandon(self, vmim: dict[str, Any], vmi: dict[str, Any] | None,
                       target_pod: dict[str, Any] | None, reason: str,
                       requested: bool = False) -> None:
        """Fail the migration: the VMI stays where it was, the target side goes away.
        An abort (the user's, or virt-launcher's monitor cancelling a stuck job) ends
        with abortStatus Succeeded; only the user's sets abortRequested."""
        state = None
        current = self.store.try_get(VMI, vmim["metadata"]["namespace"],
                                     vmim["spec"]["vmiName"]) if vmi else None
        if current is not None:
            state = dict(current["status"].get("migrationState") or {})
            if state.get("migrationUid") == vmim["metadata"]["uid"]:
                state.update(completed=True, failed=True, endTimestamp=now_rfc3339_micro(),
                             failureReason=reason)
                if reason == ABORTED:
                    state.update(abortStatus="Succeeded")
                if requested:
                    state["abortRequested"] = True
                self._vmi_state(current, state)
        if target_pod is not None:
            self.store.mutate("pods", target_pod["metadata"]["namespace"],
                              target_pod["metadata"]["name"],
                              lambda p: p.__setitem__("status", dict(
                                  completed_status(p.get("status", {})), phase="Failed")))
            if current is not None:
                self.vmis.detach_all(current, target_pod["spec"]["nodeName"])
        if not self.store.try_get(VMIM, vmim["metadata"]["namespace"], vmim["metadata"]["name"]):
            return
        record_event(self.store, vmim, "FailedMigration",
                     f"source node reported migration failed: {reason}", type_="Warning",
                     component="virtualmachine-controller")
        self._finish(vmim, state, reason)

    # ---------------------------------------------------------------- writes
    def _phase(self, vmim: dict[str, Any], phase: str) -> None:
        self.store.mutate(VMIM, vmim["metadata"]["namespace"], vmim["metadata"]["name"],
                          lambda o: with_phase(o.setdefault("status", {}), phase))

    def _vmi_state(self, vmi: dict[str, Any], state: dict[str, Any]) -> None:
        self.store.mutate(VMI, vmi["metadata"]["namespace"], vmi["metadata"]["name"],
                          lambda o: o["status"].__setitem__("migrationState", dict(state)))

    def _finish(self, vmim: dict[str, Any], state: dict[str, Any] | None,
                failure: str | None) -> None:
        def change(obj: dict[str, Any]) -> None:
            status = obj.setdefault("status", {})
            if state is not None:
                status["migrationState"] = dict(state)
            with_phase(status, "Failed" if failure else "Succeeded")
        if self.store.try_get(VMIM, vmim["metadata"]["namespace"], vmim["metadata"]["name"]):
            self.store.mutate(VMIM, vmim["metadata"]["namespace"], vmim["metadata"]["name"],
                              change)

    def _pvcs(self, vmi: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self.vmis.pvcs(vmi).values())
