"""The lab with `guests: qemu`: a VM whose DataVolume is a Block volume boots as a real
QEMU guest; the console websocket is its UART; the guest finds the disk by KubeVirt's
serial, its writes land in the storage's image, and an online PVC expansion reaches the
guest kernel (the runtime's block_resize after the storage grew)."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest

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
        console.close()
        source = get_vmi(kv, ns, "mvm")["status"]["nodeName"]
        kv.create_namespaced_custom_object(*KV, ns, "virtualmachineinstancemigrations",
                                           migration_manifest("mig1", "mvm"))
        done = wait_migration(kv, ns, "mig1", 180)
        assert done["status"]["phase"] == "Succeeded", done["status"]
        vmi = get_vmi(kv, ns, "mvm")
        assert vmi["status"]["nodeName"] != source
        assert vmi["status"]["migrationState"]["completed"] is True
        console = Console(client, ns, "mvm")
        console.send("\r")
        console.expect(r"[$#] $", 30)  # still logged in: the shell came along
        assert console.run("cat /tmp/state") == (0, "kept-in-memory")
    finally:
        console.close()
        core.delete_namespace(ns)
