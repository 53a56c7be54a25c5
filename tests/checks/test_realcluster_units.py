"""Pure rules that keep a noisy, strict real cluster from producing false verdicts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from suite.checks.base import FAMILY_CAPABILITIES, ClassContext
from suite.checks.perf import missing_fio
from suite.checks.selection import skip_reason, skipping_families
from suite.cluster.discovery import expand_disks_enabled, not_for_disks, schedulable_nodes
from suite.config.profile import Guest, RunProfile
from suite.vm import claims
from suite.vm.growth import MIB, Expectation, claim_overhead, kubevirt_image_size
from suite.vm.guestvm import GuestTools, persist_s

DEADLINE = ('failed to provision volume with StorageClass "gold": rpc error: '
            "code = DeadlineExceeded desc = context deadline exceeded")
REFUSED = ('failed to provision volume with StorageClass "gold": rpc error: '
           "code = InvalidArgument desc = access mode ReadWriteMany is not supported")


class EventsOnly:
    """Just the one call `claims` makes: the Events about an object."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events

    def events_for(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        return self.events


def warning(reason: str, message: str) -> dict[str, str]:
    return {"type": "Warning", "reason": reason, "message": message}


@pytest.mark.parametrize(("reason", "message", "final"), [
    ("ProvisioningFailed", DEADLINE, False),
    ("ProvisioningFailed", REFUSED, True),
    ("ProvisioningFailed", "rpc error: code = Aborted desc = operation with the given "
                           "Volume ID pvc-1 already exists", False),
    ("ProvisioningFailed", "rpc error: code = Internal desc = ceph is busy", False),
    ("ProvisioningFailed", "rpc error: code = Unimplemented desc = no RWX", True),
    ("VolumeResizeFailed", "rpc error: code = OutOfRange desc = too big", True),
    ("VolumeResizeFailed", "Unable to expand ns/c because CSI driver x only supports "
                           "offline expansion and volume is currently in-use", True),
    ("ProvisioningFailed", "failed to get target node: node gone", False),
    ("ErrClaimNotValid", "Missing Data volume PVC", True),
])
def test_only_final_answers_are_refusals(reason: str, message: str, final: bool) -> None:
    assert claims.is_final(reason, message) is final


def test_a_retried_error_then_success_is_no_refusal() -> None:
    kube: Any = EventsOnly([warning("ProvisioningFailed", DEADLINE)])
    assert claims.provisioning_refusal(kube, {"metadata": {}}, None) is None
    assert claims.last_retry(kube, [{"metadata": {}}], claims.PROVISION_REFUSALS) == \
        f"ProvisioningFailed: {DEADLINE}"
    kube.events.append(warning("ProvisioningFailed", REFUSED))
    assert claims.provisioning_refusal(kube, {"metadata": {}}, None) == \
        f"ProvisioningFailed: {REFUSED}"


def test_resize_refusal_needs_infeasible_or_a_final_error() -> None:
    kube: Any = EventsOnly([warning("VolumeResizeFailed", "rpc error: code = "
                                    "DeadlineExceeded desc = slow")])
    in_progress = {"status": {"allocatedResourceStatuses": {"storage":
                                                            "ControllerResizeInProgress"},
                              "conditions": [{"type": "ControllerResizeError",
                                              "status": "True", "message":
                                              "rpc error: code = Unavailable desc = x"}]}}
    assert claims.resize_refusal(kube, in_progress) is None
    infeasible = {"status": {"allocatedResourceStatuses": {"storage":
                                                           "ControllerResizeInfeasible"}}}
    assert "ControllerResizeInfeasible" in (claims.resize_refusal(kube, infeasible) or "")


def test_filesystem_growth_follows_kubevirts_rule_not_a_fixed_share() -> None:
    assert kubevirt_image_size(2 << 30, 0.055) == 1935 * MIB
    step, before = 1 << 30, 960 * MIB
    fs = Expectation("Filesystem", before, step, 2 << 30, 0.055)
    # ext4's metadata and reserved blocks: disk.img grows by ~0.85 of the step
    assert fs.grown(before + int(0.85 * step))
    assert not fs.grown(before)
    assert fs.evidence(before + step // 2)["kubevirtMaxBytes"] == 1935 * MIB
    block = Expectation("Block", 1 << 30, step, 2 << 30, 0.0)
    assert block.grown(2 << 30) and not block.grown((2 << 30) - MIB)
    vmi = {"status": {"volumeStatus": [{"persistentVolumeClaimInfo": {
        "claimName": "c", "filesystemOverhead": "0.1"}}]}}
    assert claim_overhead(vmi, "c") == 0.1 and claim_overhead(vmi, "d") == 0.055


def node(name: str, *, ready: bool = True, cordoned: bool = False,
         taint: str | None = None, kv: str | None = "true") -> dict[str, Any]:
    labels = {"kubevirt.io/schedulable": kv} if kv is not None else {}
    return {"metadata": {"name": name, "labels": labels},
            "spec": {"unschedulable": cordoned,
                     "taints": [{"key": "k", "effect": taint}] if taint else []},
            "status": {"conditions": [{"type": "Ready", "status": str(ready)}]}}


def test_schedulable_nodes_are_the_ones_a_vm_can_land_on() -> None:
    nodes = [node("a"), node("b", cordoned=True), node("c", taint="NoSchedule"),
             node("d", ready=False), node("e", kv="false"), node("f", taint="PreferNoSchedule")]
    assert schedulable_nodes(nodes) == ["a", "f"]
    assert schedulable_nodes([node("x", kv=None), node("y", kv=None)]) == ["x", "y"]


def test_expand_disks_gate_or_ga_version() -> None:
    assert expand_disks_enabled(["ExpandDisks"], "v1.5.2", True) is True
    assert expand_disks_enabled(["Snapshot"], "v1.5.2", True) is False
    assert expand_disks_enabled([], "v1.9.0", True) is True
    assert expand_disks_enabled([], "", False) is None


def test_classes_that_cannot_hold_disks_are_skipped_whole() -> None:
    assert not_for_disks("rbd.csi.ceph.com") is None
    for provisioner in ("kubernetes.io/no-provisioner", "openshift-storage.noobaa.io/obc",
                        "openshift-storage.ceph.rook.io/bucket"):
        facts = {"provisioner": provisioner, "notForDisks": not_for_disks(provisioner)}
        reason = skip_reason(facts)
        assert reason and provisioner in reason
        families = skipping_families(list(FAMILY_CAPABILITIES), reason)
        ctx: Any = ClassContext(kube=None, namespace="ns", storage_class="sc",  # type: ignore
                                facts=facts, profile=RunProfile(name="t"), run_id="r")
        cells = [o for family in families.values() for o in family(ctx)]
        assert sorted(o.capability for o in cells) == sorted(
            c for caps in FAMILY_CAPABILITIES.values() for c in caps)
        assert {o.verdict for o in cells} == {"skipped"}
    assert skip_reason({"provisioner": "rbd.csi.ceph.com", "notForDisks": None}) is None


def test_missing_fio_names_the_fix() -> None:
    profile = RunProfile(name="t")
    ctx: Any = ClassContext(kube=None, namespace="ns", storage_class="sc",  # type: ignore
                            facts={}, profile=profile, run_id="r")
    assert missing_fio(ctx) is None
    ctx.guest_tools = GuestTools(fio=True, libaio=True, cloud_init="done")
    assert missing_fio(ctx) is None
    ctx.guest_tools = GuestTools(fio=True, libaio=False, cloud_init="done")
    assert "fio-engine-libaio" in (missing_fio(ctx) or "")
    ctx.guest_tools = GuestTools(fio=False, libaio=False, cloud_init="error")
    reason = missing_fio(ctx) or ""
    assert "fio-engine-libaio" in reason and "status: error" in reason
    assert "guest.image" in reason
    ctx.profile = replace(profile, guest=Guest(packages=()))
    assert "guest.packages is empty" in (missing_fio(ctx) or "")


def test_transient_vm_statuses_must_persist() -> None:
    assert persist_s(60) == 30 and persist_s(600) == 120
