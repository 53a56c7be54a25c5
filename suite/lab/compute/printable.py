"""VirtualMachine status.printableStatus, in KubeVirt's evaluation order (first match wins).

Pure: it takes the VM, its VMI (or None), and the DataVolumes / PVCs the VM references,
so the order can be unit-tested against the table in the reference notes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .. import conditions as cond

FINAL = ("Succeeded", "Failed")
STARTING = ("", "Pending", "Scheduling", "Scheduled")


def _parse(ts: str | None) -> datetime | None:
    if not ts:
        return None
    text = ts.rstrip("Z")
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in text else "%Y-%m-%dT%H:%M:%S"
    return datetime.strptime(text, fmt).replace(tzinfo=UTC)


def migrating(vmi: dict[str, Any] | None) -> bool:
    state = (vmi or {}).get("status", {}).get("migrationState") or {}
    start, end = _parse(state.get("startTimestamp")), _parse(state.get("endTimestamp"))
    now = datetime.now(UTC)
    return start is not None and start <= now and (end is None or end > now)


def printable_status(vm: dict[str, Any], vmi: dict[str, Any] | None, start_expected: bool,
                     stop_expected: bool, dvs: list[dict[str, Any]],
                     pvcs: list[dict[str, Any] | None]) -> str:
    for check in (_terminating, _running_states, _volume_states, _late_states):
        found = check(vm, vmi, start_expected, stop_expected, dvs, pvcs)
        if found:
            return found
    return "Unknown"


def _terminating(vm: dict[str, Any], vmi: dict[str, Any] | None, _s: bool, stop: bool,
                 *_: Any) -> str | None:
    if vm["metadata"].get("deletionTimestamp"):
        return "Terminating"
    phase = (vmi or {}).get("status", {}).get("phase", "")
    if vmi is not None and phase not in FINAL and (
            vmi["metadata"].get("deletionTimestamp") or stop):
        return "Stopping"
    return None


def _running_states(_vm: dict[str, Any], vmi: dict[str, Any] | None, *_: Any) -> str | None:
    if vmi is None:
        return None
    if migrating(vmi):
        return "Migrating"
    status = vmi.get("status", {})
    if status.get("phase") == "Running":
        return "Paused" if cond.is_true(status.get("conditions"), "Paused") else "Running"
    return None


def _volume_states(_vm: dict[str, Any], vmi: dict[str, Any] | None, start: bool, _stop: bool,
                   dvs: list[dict[str, Any]], pvcs: list[dict[str, Any] | None]) -> str | None:
    conditions = (vmi or {}).get("status", {}).get("conditions", [])
    synced = cond.get(conditions, "Synchronized") or {}
    if synced.get("status") == "False" and synced.get("reason") == "FailedPvcNotFound":
        return "ErrorPvcNotFound"
    for dv in dvs:
        running = cond.get(dv.get("status", {}).get("conditions"), "Running") or {}
        if dv.get("status", {}).get("phase") == "Failed" or (
                running.get("status") == "False"
                and running.get("reason") in ("Error", "ImagePullFailed")):
            return "DataVolumeError"
    scheduled = cond.get(conditions, "PodScheduled") or {}
    if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        return "ErrorUnschedulable"
    for dv in dvs:
        phase = dv.get("status", {}).get("phase", "")
        bound = cond.is_true(dv.get("status", {}).get("conditions"), "Bound")
        if phase not in ("Succeeded", "PendingPopulation") and (
                bound or phase != "WaitForFirstConsumer"):
            return "Provisioning"
    if start and any(p is not None and p.get("status", {}).get("phase") != "Bound"
                     for p in pvcs):
        return "WaitingForVolumeBinding"
    return None


def _late_states(vm: dict[str, Any], vmi: dict[str, Any] | None, start: bool, *_: Any) -> str:
    synced = cond.get((vmi or {}).get("status", {}).get("conditions"), "Synchronized") or {}
    if synced.get("status") == "False" and synced.get("reason") in ("ErrImagePull",
                                                                      "ImagePullBackOff"):
        return str(synced["reason"])
    phase = (vmi or {}).get("status", {}).get("phase", "")
    if (vmi is None and start) or (vmi is not None and phase in STARTING):
        return "Starting"
    failures = (vm.get("status", {}).get("startFailure") or {}).get("consecutiveFailCount", 0)
    strategy = vm.get("spec", {}).get("runStrategy")
    if failures and strategy in ("Always", "RerunOnFailure", "Once"):
        return "CrashLoopBackOff"
    return "Stopped"
