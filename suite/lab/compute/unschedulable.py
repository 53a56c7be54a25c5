"""The scheduler's word on a pod no node accepts, as kube-scheduler writes it.

Used for a migration target pod when no second worker fits (one schedulable node, the
rest control-plane nodes): each node fails the first filter plugin that rejects it, in
kube-scheduler's default order (TaintToleration, NodeAffinity, ..., InterPodAffinity),
the reasons are counted and sorted, and the preemption summary says which nodes a
preemption could not help (kubernetes pkg/scheduler/framework/types.go FitError).
"""

from __future__ import annotations

from typing import Any

from ..clock import now_rfc3339

TAINT = "node(s) had untolerated taint {node-role.kubernetes.io/master: }"
SELECTOR = "node(s) didn't match Pod's node affinity/selector"
ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
RESOLVABLE = {ANTI_AFFINITY}  # preemption could in principle help; the others never


def node_reason(node: dict[str, Any], source: str, selector: dict[str, str]) -> str | None:
    """Why one node rejects the target pod (None: it fits)."""
    meta = node.get("metadata") or {}
    taints = (node.get("spec") or {}).get("taints") or []
    if any(t.get("effect") in ("NoSchedule", "NoExecute") for t in taints):
        return TAINT
    labels = meta.get("labels") or {}
    if any(labels.get(key) != value for key, value in selector.items()):
        return SELECTOR
    if meta.get("name") == source:  # KubeVirt's target pod anti-affinity to its source
        return ANTI_AFFINITY
    return None


def fit_error(nodes: list[dict[str, Any]], source: str, selector: dict[str, str]) -> str:
    counts: dict[str, int] = {}
    for node in nodes:
        reason = node_reason(node, source, selector)
        if reason is not None:
            counts[reason] = counts.get(reason, 0) + 1
    total = len(nodes)
    reasons = sorted(f"{n} {reason}" for reason, n in counts.items())
    helpless = sum(n for reason, n in counts.items() if reason not in RESOLVABLE)
    victims = total - helpless
    preemption = sorted(part for part in (
        f"{victims} No preemption victims found for incoming pod" if victims else "",
        f"{helpless} Preemption is not helpful for scheduling" if helpless else "") if part)
    return (f"0/{total} nodes are available: {', '.join(reasons)}. preemption: 0/{total} "
            f"nodes are available: {', '.join(preemption)}.")


def unschedulable_status(message: str) -> dict[str, Any]:
    return {"phase": "Pending", "qosClass": "Burstable",
            "conditions": [{"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                            "lastTransitionTime": now_rfc3339(), "reason": "Unschedulable",
                            "message": message}]}
