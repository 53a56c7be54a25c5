"""The driver file's `cluster` section shapes the lab's cluster: one schedulable node
(the others tainted control-plane nodes) makes a migration's target pod Unschedulable
with the scheduler's message until KubeVirt gives up; feature gates land in the KubeVirt
CR (through HCO's JSON-patch annotation) and a cluster without ExpandDisks never grows a
running guest's disk."""

from __future__ import annotations

import json
from typing import Any

import kubernetes
import pytest
from kvhelpers import (
    KV,
    Console,
    blank_dv,
    cloud_init,
    create_vm,
    get_vmi,
    migration_manifest,
    vm_manifest,
    wait_for,
    wait_migration,
    wait_printable,
)

DRIVERS = """
drivers:
- name: shared
  provisioner: shared.csi.lab.io
  modes: {Block: [ReadWriteOnce, ReadWriteMany]}
  expansion: online
cluster:
  schedulableNodes: 1
  featureGates: [Snapshot, HotplugVolumes, VMExport]
"""
NS = "default"


@pytest.fixture
def small(lab_factory: Any) -> Any:
    lab = lab_factory(DRIVERS)
    client = kubernetes.config.new_client_from_config(config_file=str(lab.kubeconfig_path))
    yield lab, client
    client.close()


@pytest.mark.slow
def test_one_schedulable_node_and_gates_without_expand_disks(small: Any) -> None:
    _lab, client = small
    core, kv = kubernetes.client.CoreV1Api(client), kubernetes.client.CustomObjectsApi(client)
    nodes = {n.metadata.name: n for n in core.list_node().items}
    workers = [n for n, node in nodes.items()
               if node.metadata.labels.get("kubevirt.io/schedulable") == "true"]
    assert len(nodes) == 3 and workers == ["lab-node-1"]
    master = nodes["lab-node-2"]
    assert [(t.key, t.effect) for t in master.spec.taints] == [
        ("node-role.kubernetes.io/master", "NoSchedule")]
    kubevirt = kv.list_namespaced_custom_object("kubevirt.io", "v1", "openshift-cnv",
                                                "kubevirts")["items"][0]
    gates = kubevirt["spec"]["configuration"]["developerConfiguration"]["featureGates"]
    assert gates == ["Snapshot", "HotplugVolumes", "VMExport"]
    hco = kv.list_namespaced_custom_object("hco.kubevirt.io", "v1beta1", "openshift-cnv",
                                           "hyperconvergeds")["items"][0]
    patch = json.loads(hco["metadata"]["annotations"]["kubevirt.kubevirt.io/jsonpatch"])
    assert patch[0]["value"] == gates

    create_vm(kv, NS, vm_manifest("one", user_data=cloud_init("pw"), data_volumes=[
        blank_dv("one-data", "shared", size="64Mi", access="ReadWriteMany")]))
    wait_printable(kv, NS, "one", "Running")
    assert get_vmi(kv, NS, "one")["status"]["nodeName"] == "lab-node-1"
    _migration_stays_unschedulable(core, kv)
    _expansion_never_reaches_the_running_guest(client, core, kv)


def _migration_stays_unschedulable(core: Any, kv: Any) -> None:
    manifest = migration_manifest("mig", "one")
    manifest["metadata"]["annotations"] = {
        "kubevirt.io/migrationUnschedulablePodTimeoutSeconds": "3"}
    kv.create_namespaced_custom_object(*KV, NS, "virtualmachineinstancemigrations", manifest)
    target = wait_for(lambda: [p for p in core.list_namespaced_pod(
        NS, label_selector="kubevirt.io/migrationJobUID").items],
        lambda pods: pods, "the target pod")[0]
    scheduled = next(c for c in target.status.conditions if c.type == "PodScheduled")
    assert (target.status.phase, scheduled.status, scheduled.reason) == (
        "Pending", "False", "Unschedulable")
    assert scheduled.message == (
        "0/3 nodes are available: 1 node(s) didn't match pod anti-affinity rules, 2 node(s) "
        "had untolerated taint {node-role.kubernetes.io/master: }. preemption: 0/3 nodes are "
        "available: 1 No preemption victims found for incoming pod, 2 Preemption is not "
        "helpful for scheduling.")
    phase = kv.get_namespaced_custom_object(*KV, NS, "virtualmachineinstancemigrations",
                                            "mig")["status"]["phase"]
    assert phase == "Scheduling"
    done = wait_migration(kv, NS, "mig", 30)
    assert done["status"]["phase"] == "Failed"
    reasons = {e.reason for e in core.list_namespaced_event(NS).items
               if e.involved_object.name == "mig"}
    assert {"MigrationTargetPodUnschedulable", "SuccessfulDelete"} <= reasons
    vmi = get_vmi(kv, NS, "one")
    assert vmi["status"]["phase"] == "Running" and vmi["status"]["nodeName"] == "lab-node-1"


def _expansion_never_reaches_the_running_guest(client: Any, core: Any, kv: Any) -> None:
    core.patch_namespaced_persistent_volume_claim(
        "one-data", NS, {"spec": {"resources": {"requests": {"storage": "128Mi"}}}})
    wait_for(lambda: core.read_namespaced_persistent_volume_claim("one-data", NS),
             lambda pvc: (pvc.status.capacity or {}).get("storage") == "128Mi",
             "the claim to grow")
    console = Console(client, NS, "one")
    console.login("fedora", "pw")
    status, size = console.run("stat -L -c %s $PROBE_DEV_ROOT/dev/disk/by-id/virtio-one-data")
    console.close()
    assert (status, int(size)) == (0, 64 * 1024 * 1024)


@pytest.mark.slow
def test_schedule_backoff_after_a_late_bind(lab_factory: Any) -> None:
    lab = lab_factory("drivers:\n- name: late\n  provisioner: late.csi.lab.io\n"
                      "  modes: {Block: [ReadWriteOnce]}\n  noise: [schedule-backoff]\n")
    client = kubernetes.config.new_client_from_config(config_file=str(lab.kubeconfig_path))
    core, kv = kubernetes.client.CoreV1Api(client), kubernetes.client.CustomObjectsApi(client)
    create_vm(kv, NS, vm_manifest("late", user_data=cloud_init("pw"), data_volumes=[
        blank_dv("late-data", "late")]))
    wait_printable(kv, NS, "late", "ErrorUnschedulable")
    vmi = get_vmi(kv, NS, "late")
    scheduled = next(c for c in vmi["status"]["conditions"] if c["type"] == "PodScheduled")
    assert scheduled["reason"] == "Unschedulable" and \
        "pod has unbound immediate PersistentVolumeClaims" in scheduled["message"]
    wait_printable(kv, NS, "late", "Running")
    events = [(e.reason, e.message) for e in core.list_namespaced_event(NS).items
              if e.involved_object.kind == "Pod"]
    assert any(reason == "FailedScheduling" and message.startswith(
        "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.")
        for reason, message in events)
    assert any(reason == "Scheduled" for reason, _ in events)
    client.close()
