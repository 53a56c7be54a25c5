"""The VirtualMachine controller: run strategies, DataVolume templates, VM status.

A VM owns its VMI (same name) and the DataVolumes of its `dataVolumeTemplates`. The run
strategy (or the deprecated `running`) says whether a VMI should exist; start / stop /
restart requests arrive as `status.stateChangeRequests` (see lifecycle.py), exactly as
virt-api hands them to virt-controller.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .. import conditions as cond
from ..errors import ApiError
from .printable import printable_status
from .snapshotable import volume_snapshot_statuses
from .volumes import disks_of

if TYPE_CHECKING:
    from ..store import Store

VM = "kubevirt.io/virtualmachines"
VMI = "kubevirt.io/virtualmachineinstances"
DV = "cdi.kubevirt.io/datavolumes"
FINAL = ("Succeeded", "Failed")
DV_USABLE = ("Succeeded", "WaitForFirstConsumer", "PendingPopulation")


def run_strategy(vm: dict[str, Any]) -> str:
    spec = vm.get("spec", {})
    if spec.get("runStrategy"):
        return str(spec["runStrategy"])
    return "Always" if spec.get("running") else "Halted"


class VmController:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._ran_once: set[str] = set()

    async def reconcile(self, namespace: str, name: str) -> float | None:
        vm = self.store.try_get(VM, namespace, name)
        if vm is None or vm["metadata"].get("deletionTimestamp"):
            return None
        failure = None
        try:
            self._ensure_data_volumes(vm)
            vmi = self.store.try_get(VMI, namespace, name)
            self._handle_requests(vm, vmi)
            self._apply_strategy(vm, self.store.try_get(VMI, namespace, name))
        except ApiError as exc:
            failure = exc
        self._update_status(vm, failure)
        return 2.0 if failure else None

    # ------------------------------------------------------------- children
    def _ensure_data_volumes(self, vm: dict[str, Any]) -> None:
        ns = vm["metadata"]["namespace"]
        for template in vm["spec"].get("dataVolumeTemplates") or []:
            meta = template.get("metadata", {})
            if self.store.try_get(DV, ns, meta["name"]) is not None:
                continue
            dv = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
                  "metadata": {"name": meta["name"], "namespace": ns,
                               "labels": dict(meta.get("labels") or {}),
                               "annotations": dict(meta.get("annotations") or {}),
                               "ownerReferences": [cond.owner_ref(vm)]},
                  "spec": copy.deepcopy(template.get("spec", {}))}
            self.store.create(DV, dv, admit=True)

    def _create_vmi(self, vm: dict[str, Any]) -> None:
        if not self._volumes_usable(vm):
            return
        template = vm["spec"].get("template", {})
        meta = template.get("metadata") or {}
        annotations = dict(meta.get("annotations") or {})
        annotations["kubevirt.io/vm-generation"] = str(vm["metadata"].get("generation", 1))
        vmi = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
               "metadata": {"name": vm["metadata"]["name"],
                            "namespace": vm["metadata"]["namespace"],
                            "labels": dict(meta.get("labels") or {}),
                            "annotations": annotations,
                            "ownerReferences": [cond.owner_ref(vm)]},
               "spec": copy.deepcopy(template.get("spec", {}))}
        self.store.create(VMI, vmi)
        self._ran_once.add(vm["metadata"]["uid"])

    def _delete_vmi(self, vmi: dict[str, Any] | None) -> None:
        if vmi is not None and not vmi["metadata"].get("deletionTimestamp"):
            meta = vmi["metadata"]
            self.store.delete(VMI, meta["namespace"], meta["name"])

    def _volumes_usable(self, vm: dict[str, Any]) -> bool:
        ns = vm["metadata"]["namespace"]
        spec = vm["spec"].get("template", {}).get("spec", {})
        for disk in disks_of(spec):
            if disk.from_dv:
                dv = self.store.try_get(DV, ns, disk.claim)
                if dv is None or dv.get("status", {}).get("phase") not in DV_USABLE:
                    return False
        return True

    # ------------------------------------------------------------- decisions
    def _handle_requests(self, vm: dict[str, Any], vmi: dict[str, Any] | None) -> None:
        requests = vm.get("status", {}).get("stateChangeRequests") or []
        if not requests:
            return
        first = requests[0]
        if first.get("action") == "Stop":
            if vmi is not None and first.get("uid") in (None, vmi["metadata"]["uid"]):
                self._delete_vmi(vmi)
                return
        elif first.get("action") == "Start":
            if vmi is not None:
                return
            self._create_vmi(vm)
            if self.store.try_get(VMI, vm["metadata"]["namespace"],
                                  vm["metadata"]["name"]) is None:
                return
        self.store.mutate(VM, vm["metadata"]["namespace"], vm["metadata"]["name"],
                          lambda o: o["status"].__setitem__(
                              "stateChangeRequests", o["status"]["stateChangeRequests"][1:]))

    def _apply_strategy(self, vm: dict[str, Any], vmi: dict[str, Any] | None) -> None:
        if vm.get("status", {}).get("stateChangeRequests"):
            return  # requests first, as virt-controller does
        strategy = run_strategy(vm)
        phase = (vmi or {}).get("status", {}).get("phase", "")
        if strategy == "Halted":
            self._delete_vmi(vmi)
        elif strategy == "Always":
            if vmi is None:
                self._create_vmi(vm)
            elif phase in FINAL:
                self._delete_vmi(vmi)
        elif strategy == "RerunOnFailure":
            if vmi is None and vm["metadata"]["uid"] not in self._ran_once:
                self._create_vmi(vm)
            elif phase == "Failed":
                self._ran_once.discard(vm["metadata"]["uid"])
                self._delete_vmi(vmi)
        elif strategy == "Once" and vmi is None and vm["metadata"]["uid"] not in self._ran_once:
            self._create_vmi(vm)

    # ---------------------------------------------------------------- status
    def _update_status(self, vm: dict[str, Any], failure: ApiError | None) -> None:
        ns, name = vm["metadata"]["namespace"], vm["metadata"]["name"]
        vmi = self.store.try_get(VMI, ns, name)
        dvs, pvcs = self._volumes(vm)
        start, stop = self._expectations(vm, vmi)

        def change(obj: dict[str, Any]) -> None:
            status = obj.setdefault("status", {})
            vmi_conditions = (vmi or {}).get("status", {}).get("conditions", [])
            # both are `omitempty` bools in KubeVirt: a stopped VM has neither key
            _flag(status, "created", vmi is not None)
            _flag(status, "ready", cond.is_true(vmi_conditions, "Ready"))
            status["printableStatus"] = printable_status(obj, vmi, start, stop, dvs, pvcs)
            status["conditions"] = _vm_conditions(status.get("conditions", []), vmi, failure)
            status["runStrategy"] = run_strategy(obj)
            status["volumeSnapshotStatuses"] = volume_snapshot_statuses(self.store, obj)
            status["observedGeneration"] = obj["metadata"].get("generation", 1)
            status["desiredGeneration"] = obj["metadata"].get("generation", 1)
        self.store.mutate(VM, ns, name, change)

    def _expectations(self, vm: dict[str, Any], vmi: dict[str, Any] | None) -> tuple[bool, bool]:
        """(set to start, stop expected), as KubeVirt's isSetToStart / stop checks."""
        requests = vm.get("status", {}).get("stateChangeRequests") or []
        actions = [r.get("action") for r in requests]
        if actions[:1] == ["Stop"]:
            return False, True
        phase = (vmi or {}).get("status", {}).get("phase")
        start = {"Always": True, "Halted": False,
                 "Manual": vmi is not None and phase not in FINAL,
                 "RerunOnFailure": vmi is None or phase != "Succeeded",
                 "Once": vmi is None}.get(run_strategy(vm), False)
        start = start or "Start" in actions
        return start, (run_strategy(vm) == "Halted" and vmi is not None)

    def _volumes(self, vm: dict[str, Any]) -> tuple[list[dict[str, Any]],
                                                     list[dict[str, Any] | None]]:
        ns = vm["metadata"]["namespace"]
        dvs, pvcs = [], []
        for disk in disks_of(vm["spec"].get("template", {}).get("spec", {})):
            if disk.from_dv:
                dv = self.store.try_get(DV, ns, disk.claim)
                if dv is not None:
                    dvs.append(dv)
            pvcs.append(self.store.try_get("persistentvolumeclaims", ns, disk.claim))
        return dvs, pvcs


def _flag(status: dict[str, Any], key: str, value: bool) -> None:
    if value:
        status[key] = True
    else:
        status.pop(key, None)


def _vm_conditions(old: list[dict[str, Any]], vmi: dict[str, Any] | None,
                   failure: ApiError | None) -> list[dict[str, Any]]:
    """Ready from the VMI (or VMINotExists), every other VMI condition copied over."""
    # RestartRequired is the VM controller's own (e.g. volumes it cannot migrate)
    out: list[dict[str, Any]] = [c for c in old if c.get("type") in (
        "Ready", "Failure", "RestartRequired")]
    if vmi is None:
        cond.put(out, "Ready", "False", "VMINotExists", "VMI does not exist")
    else:
        vmi_conditions = vmi.get("status", {}).get("conditions", [])
        ready = cond.get(vmi_conditions, "Ready")
        if ready is None:
            cond.put(out, "Ready", "False", "VMIConditionMissing",
                     "VMI is missing the Ready condition")
        else:
            cond.put(out, "Ready", ready["status"], ready.get("reason", ""),
                     ready.get("message", ""))
        out.extend(copy.deepcopy(c) for c in vmi_conditions if c.get("type") != "Ready")
    if failure is not None:
        cond.put(out, "Failure", "True", "FailedCreate", failure.message)
    else:
        cond.drop(out, "Failure")
    return out
