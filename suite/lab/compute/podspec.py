"""Pure helpers of the pod runtime: scheduling fit, container commands, pod status.

Kept apart from the process handling so the rules are testable without processes.
"""

from __future__ import annotations

import secrets
from typing import Any

from ..clock import now_rfc3339

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
IDLE_COMMAND = ["sleep", "infinity"]  # an image's entrypoint we cannot know


def externally_managed(pod: dict[str, Any]) -> bool:
    """Pods whose status another lab component writes (virt-launcher, CDI workers)."""
    meta = pod.get("metadata", {})
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    return ("kubevirt.io" in labels or "cdi.kubevirt.io" in labels
            or annotations.get("lab.kvstorage.io/runtime") == "none")


def fits(node: dict[str, Any], pod: dict[str, Any]) -> bool:
    selector = pod.get("spec", {}).get("nodeSelector") or {}
    labels = node.get("metadata", {}).get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def command_of(container: dict[str, Any]) -> list[str]:
    command = list(container.get("command") or []) + list(container.get("args") or [])
    return command or list(IDLE_COMMAND)


def env_of(pod: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
    env = {"PATH": DEFAULT_PATH, "HOSTNAME": pod["metadata"]["name"], "HOME": "/root"}
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = str(item["value"])
    return env


def container_id() -> str:
    return f"cri-o://{secrets.token_hex(32)}"


def running_state(started: str) -> dict[str, Any]:
    return {"running": {"startedAt": started}}


def terminated_state(code: int, started: str) -> dict[str, Any]:
    return {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                           "startedAt": started, "finishedAt": now_rfc3339()}}


def container_status(container: dict[str, Any], state: dict[str, Any], restarts: int,
                     cid: str) -> dict[str, Any]:
    running = "running" in state
    return {"name": container["name"], "image": container.get("image", ""),
            "imageID": container.get("image", ""), "containerID": cid, "ready": running,
            "started": running, "restartCount": restarts, "state": state}


def pod_conditions(ready: bool, started: str) -> list[dict[str, Any]]:
    flag = "True" if ready else "False"
    return [{"type": t, "status": s, "lastProbeTime": None, "lastTransitionTime": started}
            for t, s in (("PodReadyToStartContainers", "True"), ("Initialized", "True"),
                         ("Ready", flag), ("ContainersReady", flag), ("PodScheduled", "True"))]


def pod_phase(states: list[dict[str, Any]], restart_policy: str) -> str:
    if any("running" in s or "waiting" in s for s in states):
        return "Running"
    codes = [s["terminated"]["exitCode"] for s in states]
    if restart_policy == "Always":
        return "Running"
    return "Succeeded" if all(code == 0 for code in codes) else "Failed"
