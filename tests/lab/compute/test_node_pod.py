"""A privileged pod with the node's `/` mounted finds the raw (below-encryption) image of
a VM's volume the way a node-level check does on a real node (dm-crypt device, its
slave disk), sees ciphertext there on a luks class and plaintext under the
`encryption-not-applied` fault; `exec` works as `kubernetes.stream` expects."""

from __future__ import annotations

from typing import Any

import kubernetes
import pytest
from kubernetes.stream import stream
from kvhelpers import (
    Console,
    blank_dv,
    cloud_init,
    create_vm,
    custom,
    get_vmi,
    vm_manifest,
    wait_for,
    wait_pod_running,
    wait_printable,
)

MARKER = "NODE-LEVEL-PLAINTEXT-MARKER"
# What a node-level encryption check runs on a real node: each dm-crypt device, the
# disk below it, and whether the guest's marker is readable on that disk.
NODE_CHECK = ("for dm in /host/sys/block/dm-*; do name=$(cat $dm/dm/name); "
              "for slave in $dm/slaves/*; do raw=/host/dev/$(basename $slave); "
              f"n=$(grep -c -a '{MARKER}' $raw); echo \"$name $n\"; done; done")


def _privileged_pod(name: str, node: str) -> dict[str, Any]:
    return {"metadata": {"name": name},
            "spec": {"nodeName": node, "restartPolicy": "Never",
                     "containers": [{"name": "debug", "image": "registry.redhat.io/ubi9",
                                     "command": ["sleep", "600"],
                                     "securityContext": {"privileged": True},
                                     "volumeMounts": [{"name": "host", "mountPath": "/host"}]}],
                     "volumes": [{"name": "host", "hostPath": {"path": "/"}}]}}


def _exec(core: Any, ns: str, pod: str, script: str) -> str:
    return str(stream(core.connect_get_namespaced_pod_exec, pod, ns,
                      command=["sh", "-c", script], stderr=True, stdin=False, stdout=True,
                      tty=False))


def _node_view(api_client: Any, ns: str, storage_class: str) -> list[str]:
    kv, core = custom(api_client), kubernetes.client.CoreV1Api(api_client)
    vm = f"enc-{storage_class}"[:40]
    create_vm(kv, ns, vm_manifest(vm, user_data=cloud_init("pw"), data_volumes=[
        blank_dv(f"{vm}-data", storage_class)]))
    wait_printable(kv, ns, vm, "Running")
    console = Console(api_client, ns, vm)
    console.login("fedora", "pw")
    disk = f"$PROBE_DEV_ROOT/dev/disk/by-id/virtio-{vm}-data"
    assert console.run(f"printf '{MARKER}' | dd of={disk} conv=notrunc,fsync 2>/dev/null")[0] == 0
    console.close()
    node = get_vmi(kv, ns, vm)["status"]["nodeName"]
    core.create_namespaced_pod(ns, _privileged_pod(f"{vm}-debug", node))
    wait_pod_running(core, ns, f"{vm}-debug")
    lines = _exec(core, ns, f"{vm}-debug", NODE_CHECK).split("\n")
    return [line for line in lines if line.strip()]


@pytest.mark.slow
def test_luks_class_shows_ciphertext_on_the_node(api_client: Any, ns: str) -> None:
    lines = _node_view(api_client, ns, "lab-ceph-rbd")
    assert lines, "no dm-crypt device on the VM's node"
    name, count = lines[-1].split()
    assert name.startswith("luks-") and count == "0"


PLAINTEXT = """
drivers:
  - name: lab-liar
    provisioner: liar.csi.lab.io
    defaultVirt: true
    modes: {Block: [ReadWriteOnce]}
    encryption: luks
    faults: [encryption-not-applied]
"""


@pytest.mark.slow
def test_encryption_not_applied_shows_plaintext_on_the_node(lab_factory: Any) -> None:
    liar = lab_factory(PLAINTEXT)
    client = kubernetes.config.new_client_from_config(config_file=str(liar.kubeconfig_path))
    lines = _node_view(client, "default", "lab-liar")
    client.close()
    name, count = lines[-1].split()
    assert name.startswith("luks-") and int(count) >= 1


def test_exec_reports_exit_codes_and_streams(core: Any, ns: str) -> None:
    core.create_namespaced_pod(ns, {"metadata": {"name": "plain"}, "spec": {"containers": [
        {"name": "c", "image": "busybox", "command": ["sleep", "600"]}]}})
    pod = wait_pod_running(core, ns, "plain")
    assert pod.spec.node_name and pod.status.container_statuses[0].ready
    client = stream(core.connect_get_namespaced_pod_exec, "plain", ns,
                    command=["sh", "-c", "echo out; echo err >&2; exit 3"], stderr=True,
                    stdin=False, stdout=True, tty=False, _preload_content=False)
    client.run_forever(timeout=10)
    assert client.read_stdout().strip() == "out"
    assert client.read_stderr().strip() == "err"
    assert client.returncode == 3
    assert _exec(core, ns, "plain", "test -d /host || echo isolated").strip() == "isolated"
    on_tty = stream(core.connect_get_namespaced_pod_exec, "plain", ns, command=["tty"],
                    stderr=True, stdin=False, stdout=True, tty=True)
    assert on_tty.startswith("/dev/pts/")
    core.delete_namespaced_pod("plain", ns)
    with pytest.raises(kubernetes.client.ApiException):
        wait_for(lambda: core.read_namespaced_pod("plain", ns), lambda p: False, "gone", 5)
