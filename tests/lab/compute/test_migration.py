"""Live migration: an RWX Block VM moves to another node while its guest keeps writing
and every block reads back; an RWO VM is not migratable and KubeVirt's webhook refuses
it; a class with the `migration-fails` fault ends Failed with the VMI left running."""

from __future__ import annotations

from typing import Any

import kubernetes
import pytest
from kvhelpers import (
    KV,
    Console,
    blank_dv,
    cloud_init,
    create_vm,
    custom,
    get_vmi,
    migration_manifest,
    vm_action,
    vm_manifest,
    wait_for,
    wait_migration,
    wait_printable,
)

BLOCKS = 5000  # an upper bound; the test stops the writer once the VM has moved
# In the background, so the test can watch the guest write before, during and after.
WRITER = ("(i=0; while [ ! -e $HOME/stop ] && [ $i -lt {n} ]; do printf 'blk-%05d' $i | "
          "dd of={dev} bs=4096 seek=$i conv=notrunc,fsync 2>/dev/null; i=$((i+1)); "
          "echo $i > $HOME/written; done) & true")
CHECKER = ("i=0; bad=0; while [ $i -lt {n} ]; do v=$(dd if={dev} bs=4096 skip=$i count=1 "
           "2>/dev/null | head -c 9); [ \"$v\" = \"$(printf 'blk-%05d' $i)\" ] || "
           "bad=$((bad+1)); i=$((i+1)); done; echo bad=$bad")
RWO_MESSAGE = ("Cannot migrate VMI, Reason: DisksNotLiveMigratable, Message: cannot migrate "
               "VMI: PVC {claim} is not shared, live migration requires that all PVCs must be "
               "shared (using ReadWriteMany access mode)")


def _rwx_block_class(lab: Any) -> str:
    return next(d.name for d in lab.ctx.drivers
                if "ReadWriteMany" in d.modes.get("Block", ()))


def _written(console: Console) -> int:
    return int(console.run("cat $HOME/written 2>/dev/null || echo 0")[1] or 0)


@pytest.mark.slow
def test_rwx_vm_migrates_while_the_guest_writes(lab: Any, api_client: Any, core: Any, kv: Any,
                                                 ns: str) -> None:
    create_vm(kv, ns, vm_manifest("mover", user_data=cloud_init("pw"), data_volumes=[
        blank_dv("mover-data", _rwx_block_class(lab), access="ReadWriteMany")]))
    wait_printable(kv, ns, "mover", "Running")
    before = get_vmi(kv, ns, "mover")
    assert next(c for c in before["status"]["conditions"] if c["type"] == "LiveMigratable")[
        "status"] == "True"
    console = Console(api_client, ns, "mover")
    console.login("fedora", "pw")
    dev = "$PROBE_DEV_ROOT/dev/disk/by-id/virtio-mover-data"
    assert console.run(WRITER.format(n=BLOCKS, dev=dev))[0] == 0
    started = wait_for(lambda: _written(console), lambda n: n >= 5, "the writer to start")
    kv.create_namespaced_custom_object(*KV, ns, "virtualmachineinstancemigrations",
                                       migration_manifest("move-1", "mover"))
    done = wait_migration(kv, ns, "move-1")
    moved = _written(console)
    wait_for(lambda: _written(console), lambda n: n >= moved + 5, "writes on the target")
    assert console.run("touch $HOME/stop; wait", 60)[0] == 0
    total = _written(console)
    assert started < moved < total < BLOCKS
    assert console.run(CHECKER.format(n=total, dev=dev), 60) == (0, "bad=0")
    console.close()
    phases = [p["phase"] for p in done["status"]["phaseTransitionTimestamps"]]
    assert phases == ["Pending", "Scheduling", "Scheduled", "PreparingTarget", "TargetReady",
                      "Running", "Succeeded"]
    after = get_vmi(kv, ns, "mover")
    state = after["status"]["migrationState"]
    assert state["completed"] is True and "failed" not in state
    # the target's domain runs once the copy is done, as virt-handler on the target sees it
    assert state["startTimestamp"] <= state["targetNodeDomainReadyTimestamp"] <= \
        state["endTimestamp"]
    assert state["mode"] == "PreCopy" and state["targetNodeDomainDetected"] is True
    assert state["sourceNode"] == before["status"]["nodeName"] != after["status"]["nodeName"]
    assert state["targetNode"] == after["status"]["nodeName"]
    assert state["migrationUid"] == done["metadata"]["uid"]
    pods = {p.metadata.name: p for p in core.list_namespaced_pod(
        ns, label_selector=f"kubevirt.io/created-by={after['metadata']['uid']}").items}
    assert pods[state["sourcePod"]].status.phase == "Succeeded"
    assert pods[state["targetPod"]].status.phase == "Running"
    pv = core.read_namespaced_persistent_volume_claim("mover-data", ns).spec.volume_name
    nodes = [a.spec.node_name for a in
             kubernetes.client.StorageV1Api(api_client).list_volume_attachment().items
             if a.spec.source.persistent_volume_name == pv]
    assert nodes == [state["targetNode"]]


@pytest.mark.slow
def test_rwo_vm_is_not_migratable_and_is_refused(api_client: Any, kv: Any, ns: str) -> None:
    create_vm(kv, ns, vm_manifest("pinned", user_data=cloud_init("pw"), data_volumes=[
        blank_dv("pinned-data", "lab-slow", access="ReadWriteOnce")]))
    wait_printable(kv, ns, "pinned", "Running")
    vmi = get_vmi(kv, ns, "pinned")
    migratable = next(c for c in vmi["status"]["conditions"] if c["type"] == "LiveMigratable")
    assert (migratable["status"], migratable["reason"]) == ("False", "DisksNotLiveMigratable")
    expected = RWO_MESSAGE.format(claim="pinned-data")
    assert f"Reason: {migratable['reason']}, Message: {migratable['message']}" in expected
    with pytest.raises(kubernetes.client.ApiException) as refused:
        kv.create_namespaced_custom_object(*KV, ns, "virtualmachineinstancemigrations",
                                           migration_manifest("never", "pinned"))
    assert refused.value.status == 400
    assert ('admission webhook \\"migration-create-validator.kubevirt.io\\" denied the '
            'request: ' + expected) in refused.value.body
    with pytest.raises(kubernetes.client.ApiException) as via_vm:
        vm_action(api_client, ns, "pinned", "migrate")
    assert via_vm.value.status == 500 and "DisksNotLiveMigratable" in via_vm.value.body


FAULTY = """
drivers:
  - name: lab-flaky-rwx
    provisioner: flaky.csi.lab.io
    defaultVirt: true
    modes: {Block: [ReadWriteOnce, ReadWriteMany]}
    faults: [migration-fails]
"""


@pytest.mark.slow
def test_migration_fails_fault_leaves_the_vmi_running(lab_factory: Any) -> None:
    faulty = lab_factory(FAULTY)
    client = kubernetes.config.new_client_from_config(config_file=str(faulty.kubeconfig_path))
    kv = custom(client)
    create_vm(kv, "default", vm_manifest("stuck", user_data=cloud_init("pw"), data_volumes=[
        blank_dv("stuck-data", "lab-flaky-rwx", access="ReadWriteMany")]))
    wait_printable(kv, "default", "stuck", "Running")
    source = get_vmi(kv, "default", "stuck")["status"]["nodeName"]
    assert vm_action(client, "default", "stuck", "migrate") == 202
    name = wait_for(lambda: kv.list_namespaced_custom_object(
        *KV, "default", "virtualmachineinstancemigrations")["items"], bool, "a VMIM")[0][
        "metadata"]["name"]
    assert name.startswith("kubevirt-migrate-vm-")
    failed = wait_migration(kv, "default", name)
    assert failed["status"]["phase"] == "Failed"
    vmi = get_vmi(kv, "default", "stuck")
    assert vmi["status"]["phase"] == "Running" and vmi["status"]["nodeName"] == source
    state = vmi["status"]["migrationState"]
    assert state["failed"] is True and "MigrateToURI3" in state["failureReason"]
    assert "operation failed: job 'migration out' failed: " in state["failureReason"]
    assert "targetNodeDomainReadyTimestamp" not in state  # it never ran on the target
    assert "abortRequested" not in state and "abortStatus" not in state
    console = Console(client, "default", "stuck")
    console.login("fedora", "pw")
    assert console.run("echo still-here") == (0, "still-here")
    console.close()
    client.close()
