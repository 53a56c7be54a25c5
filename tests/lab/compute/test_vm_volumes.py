"""VMs and their claims: a missing claim is ErrorPvcNotFound, an unbound one keeps the VMI
Pending (WaitingForVolumeBinding), and a claim grown online shows in the VMI's
volumeStatus and in the guest's disk size (ExpandDisks)."""

from __future__ import annotations

from typing import Any

import pytest
from kvhelpers import (
    Console,
    blank_dv,
    cloud_init,
    create_vm,
    get_vm,
    get_vmi,
    vm_manifest,
    wait_for,
    wait_printable,
)


def _with_claim(name: str, claim: str) -> dict[str, Any]:
    vm = vm_manifest(name, user_data=cloud_init("pw"))
    spec = vm["spec"]["template"]["spec"]
    spec["domain"]["devices"]["disks"].append({"name": "data", "serial": "data",
                                               "disk": {"bus": "virtio"}})
    spec["volumes"].append({"name": "data", "persistentVolumeClaim": {"claimName": claim}})
    return vm


def test_missing_then_unbound_claim_keeps_the_vmi_pending(core: Any, kv: Any, ns: str) -> None:
    create_vm(kv, ns, _with_claim("waits", "not-yet"))
    wait_printable(kv, ns, "waits", "ErrorPvcNotFound")
    core.create_namespaced_persistent_volume_claim(ns, {
        "metadata": {"name": "not-yet"},
        "spec": {"storageClassName": "no-such-class", "accessModes": ["ReadWriteOnce"],
                 "resources": {"requests": {"storage": "64Mi"}}}})
    wait_printable(kv, ns, "waits", "WaitingForVolumeBinding")
    vmi = get_vmi(kv, ns, "waits")
    assert vmi["status"]["phase"] == "Pending"
    assert not core.list_namespaced_pod(ns, label_selector="vm.kubevirt.io/name=waits").items


def test_online_expansion_reaches_vmi_status_and_guest(api_client: Any, core: Any, kv: Any,
                                                       ns: str) -> None:
    create_vm(kv, ns, vm_manifest("grows", user_data=cloud_init("pw"), data_volumes=[
        blank_dv("grows-data", "lab-ceph-rbd", size="64Mi")]))
    wait_printable(kv, ns, "grows", "Running")
    core.patch_namespaced_persistent_volume_claim(
        "grows-data", ns, {"spec": {"resources": {"requests": {"storage": "128Mi"}}}})

    def capacity() -> str:
        entries = get_vmi(kv, ns, "grows")["status"]["volumeStatus"]
        entry = next(e for e in entries if e["name"] == "grows-data")
        return str(entry["persistentVolumeClaimInfo"]["capacity"]["storage"])
    wait_for(capacity, lambda size: size == "128Mi", "the VMI to report 128Mi", 30)
    console = Console(api_client, ns, "grows")
    console.login("fedora", "pw")
    status, size = console.run("stat -L -c %s $PROBE_DEV_ROOT/dev/disk/by-id/virtio-grows-data")
    console.close()
    assert (status, int(size)) == (0, 128 * 1024 * 1024)


@pytest.mark.slow
def test_rwo_claim_in_use_on_another_node_cannot_attach(core: Any, kv: Any, ns: str) -> None:
    create_vm(kv, ns, vm_manifest("owner", user_data=cloud_init("pw"), data_volumes=[
        blank_dv("owned-data", "lab-slow")]))
    wait_printable(kv, ns, "owner", "Running")
    node = get_vmi(kv, ns, "owner")["status"]["nodeName"]
    other = next(n.metadata.name for n in core.list_node().items if n.metadata.name != node)
    intruder = _with_claim("intruder", "owned-data")
    intruder["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/hostname": other}
    create_vm(kv, ns, intruder)

    def refusals() -> list[str]:
        pods = core.list_namespaced_pod(ns, label_selector="vm.kubevirt.io/name=intruder").items
        if not pods:
            return []
        events = core.list_namespaced_event(ns).items
        return [e.message for e in events if e.involved_object.name == pods[0].metadata.name
                and e.reason == "FailedAttachVolume"]
    messages = wait_for(refusals, bool, "a FailedAttachVolume event")
    assert "Multi-Attach error for volume" in messages[0]
    assert "Volume is already exclusively attached to one node" in messages[0]
    assert get_vmi(kv, ns, "intruder")["status"]["phase"] == "Scheduling"
    assert get_vm(kv, ns, "intruder")["status"]["printableStatus"] == "Starting"
