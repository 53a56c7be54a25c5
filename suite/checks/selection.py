"""Classes that cannot hold a VM disk: every cell `skipped` at once, with the reason.

A `kubernetes.io/no-provisioner` class provisions nothing dynamically and an
object-bucket class (`openshift-storage.noobaa.io/obc`, `*.ceph.rook.io/bucket`) makes
ObjectBucketClaims, not volumes; a claim for either never binds. Testing them would
only wait out every bind timeout and call them `broken`. Discovery names them
(`facts["notForDisks"]`); the session gives such a class these families instead of
the real ones, so its cells are decided in milliseconds.
"""

from __future__ import annotations

from typing import Any

from suite.checks.base import FAMILY_CAPABILITIES, ClassContext, Family, Outcome


def skip_reason(facts: dict[str, Any]) -> str | None:
    """The one-line reason a class is not tested, or None when it is."""
    why = facts.get("notForDisks")
    if not why:
        return None
    return (f"not a StorageClass for VM disks: provisioner {facts.get('provisioner')} is "
            f"{why}")


def skipping_families(names: list[str], reason: str) -> dict[str, Family]:
    """Families with the real ones' names whose every cell is `skipped` with `reason`."""
    def family(name: str) -> Family:
        def assess(ctx: ClassContext) -> list[Outcome]:
            return [Outcome(cap, "skipped", reason, {"provisioner": ctx.facts.get(
                "provisioner")}) for cap in FAMILY_CAPABILITIES[name]]
        return assess

    return {name: family(name) for name in names}
