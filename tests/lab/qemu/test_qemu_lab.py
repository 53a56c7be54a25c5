"""The lab with `guests: qemu`: a VM whose DataVolume is a Block volume boots as a real
QEMU guest; the console websocket is its UART; the guest finds the disk by KubeVirt's
serial, its writes land in the storage's image, and an online PVC expansion reaches the
guest kernel (the runtime's block_resize after the storage grew). The guest runs no
agent: no AgentConnected, the agent subresources answer 409 as virt-api does, and a VM
snapshot skips the freeze and says NoGuestAgent. A live migration of a busy guest shows
QEMU's job in the VMI's migrationState while it runs, before Succeeded."""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest
from kubernetes import watch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compute"))

from kvhelpers import (
    KV,
    Console,
    blank_dv,
    cloud_init,
    create_vm,
    custom,
    get_vmi,
    migration_manifest,
    vm_manifest,
    volume_image,
    wait_for,
    wait_migration,
    wait_printable,
)

from suite.lab.compute.qemu import GuestImageMissing, find_image
from suite.lab.lab import Lab

try:
    find_image()
    MISSING = ""
except GuestImageMissing as exc:
    MISSING = str(exc)

# A QEMU/TCG guest boots in a minute or more: not for the quick loop.
pytestmark = [pytest.mark.extended, pytest.mark.slow,
              pytest.mark.skipif(bool(MISSING), reason=MISSING)]
MARKER = "KVS-QEMU-MARKER-42"
SNAP = ("snapshot.kubevirt.io", "v1beta1")


def _follow(kv: Any, ns: str, plural: str, name: str) -> tuple[watch.Watch, list[Any]]:
    """Every version of one object from now on (a watch misses no update)."""
    rv = kv.list_namespaced_custom_object(*KV, ns, plural)["metadata"]["resourceVersion"]
    watcher, seen = watch.Watch(), []

    def follow() -> None:
        for event in watcher.stream(kv.list_namespaced_custom_object, *KV, ns, plural,
                                    resource_version=rv, timeout_seconds=300):
            if event["object"]["metadata"]["name"] == name:
                seen.append(event["object"])
    threading.Thread(target=follow, daemon=True).start()
    time.sleep(0.5)  # the watch is open
    return watcher, seen


def _agentless(client: Any, kv: Any, ns: str, name: str) -> None:
    """No guest agent: what virt-handler, virt-api and the snapshot controller say."""
    status = get_vmi(kv, ns, name)["status"]
    assert "AgentConnected" not in {c["type"] for c in status["conditions"]}
    assert status["guestOSInfo"] == {}
    assert [(i["infoSource"], "interfaceName" in i) for i in status["interfaces"]] == [
        ("domain", False)]
    base = f"/apis/subresources.kubevirt.io/v1/namespaces/{ns}/virtualmachineinstances/{name}"
    for sub in ("guestosinfo", "userlist", "filesystemlist"):
        with pytest.raises(kubernetes.client.ApiException) as refused:
            client.call_api(f"{base}/{sub}", "GET", auth_settings=["BearerToken"],
                            response_type="object", _return_http_data_only=True)
        body = json.loads(refused.value.body)
        assert (refused.value.status, body["reason"]) == (409, "Conflict")
        assert body["message"] == ('Operation cannot be fulfilled on virtualmachineinstance.'
                                   f'kubevirt.io "{name}": VMI does not have guest agent '
                                   'connected')
    watcher, versions = _follow(kv, ns, "virtualmachineinstances", name)
    kv.create_namespaced_custom_object(*SNAP, ns, "virtualmachinesnapshots", {
        "apiVersion": "snapshot.kubevirt.io/v1beta1", "kind": "VirtualMachineSnapshot",
        "metadata": {"name": f"{name}-snap"},
        "spec": {"source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine",
                            "name": name}}})
    snap = wait_for(lambda: kv.get_namespaced_custom_object(
        *SNAP, ns, "virtualmachinesnapshots", f"{name}-snap"),
        lambda s: s.get("status", {}).get("phase") == "Succeeded", "the snapshot", 120)
    watcher.stop()
    assert snap["status"]["indications"] == ["NoGuestAgent", "Online"]
    assert snap["status"]["sourceIndications"][0] == {
        "indication": "NoGuestAgent",
        "message": "Guest agent was not available. Snapshot is crash-consistent and may "
                   "not be application-consistent."}
    assert not [v for v in versions if v["status"].get("fsFreezeStatus")]  # never frozen


@pytest.fixture(scope="module")
def qlab() -> Iterator[Lab]:
    with Lab(guests="qemu") as running:
        yield running


@pytest.fixture(scope="module")
def client(qlab: Lab) -> Iterator[kubernetes.client.ApiClient]:
    api = kubernetes.config.new_client_from_config(config_file=str(qlab.kubeconfig_path))
    yield api
    api.close()


def test_a_block_volume_vm_is_a_real_guest(qlab: Lab, client: Any) -> None:
    assert qlab.ctx.cluster.guests == "qemu"
    core, kv = kubernetes.client.CoreV1Api(client), custom(client)
    ns = f"qemu-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": ns}})
    # a Block class without encryption, so the image shows the guest's bytes as written
    driver = next(d for d in qlab.ctx.drivers if "Block" in d.modes
                  and d.encryption == "none" and d.expansion == "online")
    dv = blank_dv("qdata", driver.name, volume_mode="Block",
                  access=driver.modes["Block"][0])
    create_vm(kv, ns, vm_manifest("qvm", user_data=cloud_init("s3cret"), data_volumes=[dv]))
    wait_printable(kv, ns, "qvm", "Running", 120)

    console = Console(client, ns, "qvm")
    try:
        console.send("\r")
        console.expect(r"qvm login: ", 400)
        console.login("fedora", "s3cret")
        assert console.run("uname -r")[1].endswith("-amd64")  # a Debian kernel, not the host
        status, link = console.run("readlink /dev/disk/by-id/virtio-qdata")
        assert status == 0 and link.startswith("../../vd"), link
        dev = "/dev/" + link.rsplit("/", 1)[1]
        status, _ = console.run(f"printf '{MARKER}' | sudo -n dd of={dev} bs=4096 seek=3 "
                                "conv=fsync oflag=direct 2>/dev/null", 60)
        assert status == 0
        image = volume_image(qlab.state_dir, core, ns, "qdata").read_bytes()
        assert image[3 * 4096:3 * 4096 + len(MARKER)] == MARKER.encode()

        name = dev.rsplit("/", 1)[1]
        before = int(console.run(f"cat /sys/block/{name}/size")[1])
        core.patch_namespaced_persistent_volume_claim(
            "qdata", ns, {"spec": {"resources": {"requests": {"storage": "128Mi"}}}})
        status, _ = console.run(
            f"i=0; while [ $(cat /sys/block/{name}/size) = {before} ] && [ $i -lt 600 ]; "
            "do sleep 0.1; i=$((i+1)); done", 90)
        after = int(console.run(f"cat /sys/block/{name}/size")[1])
        assert after * 512 >= 128 * 2**20 > before * 512
        _agentless(client, kv, ns, "qvm")
        assert console.run("echo alive") == (0, "alive")  # nothing froze the guest
    finally:
        console.close()
        core.delete_namespace(ns)


def test_live_migration_moves_the_running_guest(qlab: Lab, client: Any) -> None:
    """An RWX Block disk: the VMI migrates to another node; QEMU's memory copy keeps the
    logged-in shell, which the console reaches on the target."""
    core, kv = kubernetes.client.CoreV1Api(client), custom(client)
    ns = f"qemu-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": ns}})
    driver = next(d for d in qlab.ctx.drivers if "ReadWriteMany" in d.modes.get("Block", ()))
    dv = blank_dv("mdata", driver.name, volume_mode="Block", access="ReadWriteMany")
    create_vm(kv, ns, vm_manifest("mvm", user_data=cloud_init("s3cret"), data_volumes=[dv]))
    wait_printable(kv, ns, "mvm", "Running", 120)
    console = Console(client, ns, "mvm")
    try:
        console.send("\r")
        console.expect(r"mvm login: ", 400)
        console.login("fedora", "s3cret")
        assert console.run("echo kept-in-memory > /tmp/state; echo ok") == (0, "ok")
        # busy: the guest keeps dirtying its memory while QEMU copies it
        assert console.run("(while :; do dd if=/dev/urandom of=/tmp/busy bs=1M count=32 "
                           "2>/dev/null; done) & echo ok") == (0, "ok")
        console.close()
        source = get_vmi(kv, ns, "mvm")["status"]["nodeName"]
        watcher, versions = _follow(kv, ns, "virtualmachineinstances", "mvm")
        kv.create_namespaced_custom_object(*KV, ns, "virtualmachineinstancemigrations",
                                           migration_manifest("mig1", "mvm"))
        done = wait_migration(kv, ns, "mig1", 180)
        watcher.stop()
        assert done["status"]["phase"] == "Succeeded", done["status"]
        phases = [p["phase"] for p in done["status"]["phaseTransitionTimestamps"]]
        assert phases[-3:] == ["TargetReady", "Running", "Succeeded"], phases
        vmi = get_vmi(kv, ns, "mvm")
        assert vmi["status"]["nodeName"] != source
        final = vmi["status"]["migrationState"]
        assert final["completed"] is True and "failed" not in final
        assert final["startTimestamp"] <= final["targetNodeDomainReadyTimestamp"] <= \
            final["endTimestamp"]
        assert done["status"]["migrationState"] == final
        states = [v["status"]["migrationState"] for v in versions
                  if v["status"].get("migrationState", {}).get("migrationUid")
                  == done["metadata"]["uid"]]
        # the target QEMU not yet listening: no address; then listening; then copying
        assert any("targetNodeAddress" not in s for s in states)
        assert any("targetNodeAddress" in s and "startTimestamp" not in s for s in states)
        running = [s for s in states if "startTimestamp" in s and not s.get("completed")]
        assert running, states
        assert running[0]["mode"] == "PreCopy" and running[0]["targetNodeDomainDetected"]
        assert "targetNodeDomainReadyTimestamp" not in running[0]
        assert "endTimestamp" not in running[0]
        console = Console(client, ns, "mvm")
        console.send("\r")
        console.expect(r"[$#] $", 30)  # still logged in: the shell came along
        assert console.run("cat /tmp/state") == (0, "kept-in-memory")
    finally:
        console.close()
        core.delete_namespace(ns)
