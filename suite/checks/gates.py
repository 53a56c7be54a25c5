"""KubeVirt feature gates as discovery read them, for families that need one.

One rule for every family: a gate counts as off only when discovery read the KubeVirt
CR (its version is known) and the gate is not in its list; anything unknown counts as on,
so KubeVirt itself answers.
"""

from __future__ import annotations

from suite.checks.base import ClassContext


def gate_off(ctx: ClassContext, gate: str) -> bool:
    virt = ctx.facts.get("virtualization") or {}
    gates = virt.get("kubevirtFeatureGates")
    return bool(virt.get("kubevirtVersion")) and isinstance(gates, list) and gate not in gates


def gate_off_reason(gate: str, consequence: str) -> str:
    """The one-line reason of an `unsupported` cell whose gate is off."""
    return f"KubeVirt's {gate} feature gate is off (not in the KubeVirt CR's featureGates): " \
        f"{consequence}"
