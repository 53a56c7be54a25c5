"""The status fields of a running VMI, as virt-controller and virt-handler fill them."""

from __future__ import annotations

from typing import Any

from .. import conditions as cond
from ..clock import now_rfc3339_micro
from .hotplug import keep_hotplug
from .launcher import LAUNCHER_IMAGE
from .vmifacts import guest_os_info, interfaces, live_migratable, migration_method, pod_ip
from .volumes import disks_of, volume_status


def with_phase(status: dict[str, Any], phase: str) -> dict[str, Any]:
    """Set the phase and record the transition, as KubeVirt's phaseTransitionTimestamps."""
    if status.get("phase") != phase:
        status["phase"] = phase
        status.setdefault("phaseTransitionTimestamps", []).append(
            {"phase": phase, "phaseTransitionTimestamp": now_rfc3339_micro()})
    return status


def running_conditions(vmi: dict[str, Any], pvcs: dict[str, dict[str, Any]],
                       node_index: int, agent: bool = True) -> None:
    """Fill what a Running VMI reports; called at boot and whenever claims change.
    Without a guest agent (`agent` False) virt-handler reports no AgentConnected
    condition, no guestOSInfo and no guest interface names (they come from the agent;
    kubevirt pkg/network/setup/netstat.go)."""
    spec, status = vmi["spec"], vmi.setdefault("status", {})
    disks = disks_of(spec)
    conditions = status.setdefault("conditions", [])
    cond.put(conditions, "Ready", "True")
    migratable, reason, message = live_migratable(disks, pvcs, spec)
    cond.put(conditions, "LiveMigratable", migratable, reason, message)
    cond.put(conditions, "StorageLiveMigratable", "True")
    if not agent:
        cond.drop(conditions, "AgentConnected")
    elif cond.get(conditions, "AgentConnected") is None:
        conditions.append({"type": "AgentConnected", "status": "True",
                           "lastProbeTime": None, "lastTransitionTime": None})
    status["volumeStatus"] = keep_hotplug(status.get("volumeStatus"),
                                          volume_status(disks, pvcs, spec))
    uid = vmi["metadata"]["uid"]
    status["interfaces"] = interfaces(spec, uid, pod_ip(uid, node_index))
    if not agent:  # the domain and the pod alone: no guest-side interface name
        for entry in status["interfaces"]:
            entry.pop("interfaceName", None)
            entry["infoSource"] = "domain"
    status["guestOSInfo"] = guest_os_info() if agent else {}
    status["migrationMethod"] = migration_method(spec)
    status["migrationTransport"] = "Unix"
    status["launcherContainerImageVersion"] = LAUNCHER_IMAGE
    status["machine"] = {"type": "pc-q35-rhel9.6.0"}
    status["runtimeUser"] = 107
    status.setdefault("currentCPUTopology", _topology(spec))
    status.setdefault("memory", _memory(spec))


def _topology(spec: dict[str, Any]) -> dict[str, int]:
    cpu = spec.get("domain", {}).get("cpu") or {}
    return {"cores": cpu.get("cores", 1), "sockets": cpu.get("sockets", 1),
            "threads": cpu.get("threads", 1)}


def _memory(spec: dict[str, Any]) -> dict[str, str]:
    domain = spec.get("domain", {})
    guest = (domain.get("memory") or {}).get("guest") or \
        (domain.get("resources") or {}).get("requests", {}).get("memory", "1Gi")
    return {"guestAtBoot": guest, "guestCurrent": guest, "guestRequested": guest}
