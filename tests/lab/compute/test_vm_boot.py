"""A VM with a DataVolume template boots on every default lab class; its console logs
in; bytes the guest writes land in the volume's image (encrypted on a luks class);
stop and restart end and replace the guest process."""

from __future__ import annotations

import os
import time
from typing import Any

import kubernetes
import pytest
from kvhelpers import (
    Console,
    blank_dv,
    cloud_init,
    create_vm,
    get_vmi,
    vm_action,
    vm_manifest,
    volume_image,
    wait_for,
    wait_printable,
)

MARKER = "KVS-LAB-MARKER-0123456789"


def _disk_for(driver: Any) -> tuple[str, str]:
    mode = "Block" if "Block" in driver.modes else "Filesystem"
    return mode, driver.modes[mode][0]


@pytest.fixture(scope="module")
def booted(lab: Any, kv: Any, ns: str) -> dict[str, Any]:
    """One VM per lab class, created together (they boot in parallel)."""
    vms = {}
    for index, driver in enumerate(lab.ctx.drivers):
        mode, access = _disk_for(driver)
        name = f"boot{index}"
        dv = blank_dv(f"{name}-data", driver.name, volume_mode=mode, access=access)
        create_vm(kv, ns, vm_manifest(name, user_data=cloud_init("s3cret"), data_volumes=[dv]))
        vms[name] = driver
    for name in vms:
        wait_printable(kv, ns, name, "Running", 60)
    return vms


@pytest.mark.slow
def test_every_default_class_boots_and_keeps_guest_bytes(
        lab: Any, api_client: kubernetes.client.ApiClient, core: Any, kv: Any, ns: str,
        booted: dict[str, Any]) -> None:
    for name, driver in booted.items():
        console = Console(api_client, ns, name)
        console.login("fedora", "s3cret")
        disk = f"$PROBE_DEV_ROOT/dev/disk/by-id/virtio-{name}-data"
        status, out = console.run(f"printf '{MARKER}' | dd of={disk} bs=4096 seek=3 "
                                  "conv=notrunc,fsync 2>/dev/null && echo written")
        console.close()
        assert (status, out) == (0, "written"), name
        image = volume_image(lab.state_dir, core, ns, f"{name}-data").read_bytes()
        if driver.encryption == "luks":
            assert MARKER.encode() not in image, f"{driver.name} stores plaintext"
        else:
            assert MARKER.encode() in image, f"{driver.name}: marker not in the image"


@pytest.mark.slow
def test_launcher_pod_and_vmi_status_look_like_kubevirt(core: Any, kv: Any, ns: str,
                                                        booted: dict[str, Any]) -> None:
    name = next(iter(booted))
    vmi = get_vmi(kv, ns, name)
    pods = core.list_namespaced_pod(
        ns, label_selector=f"kubevirt.io=virt-launcher,kubevirt.io/created-by="
                           f"{vmi['metadata']['uid']}").items
    assert len(pods) == 1
    pod = pods[0]
    assert pod.status.phase == "Running"
    assert pod.spec.node_name == vmi["status"]["nodeName"]
    assert pod.metadata.labels["vm.kubevirt.io/name"] == name
    assert [c.name for c in pod.spec.containers] == ["compute", "volumerootdisk"]
    assert pod.metadata.owner_references[0].uid == vmi["metadata"]["uid"]
    phases = [p["phase"] for p in vmi["status"]["phaseTransitionTimestamps"]]
    assert phases == ["Pending", "Scheduling", "Scheduled", "Running"]
    types = {c["type"]: c["status"] for c in vmi["status"]["conditions"]}
    assert types["Ready"] == "True" and types["AgentConnected"] == "True"
    assert types["DataVolumesReady"] == "True"
    info = next(v for v in vmi["status"]["volumeStatus"] if v["name"] == f"{name}-data")
    assert info["persistentVolumeClaimInfo"]["claimName"] == f"{name}-data"
    assert info["persistentVolumeClaimInfo"]["capacity"]["storage"]


@pytest.mark.slow
def test_second_console_replaces_first_and_logout_returns_to_login(
        api_client: kubernetes.client.ApiClient, ns: str, booted: dict[str, Any]) -> None:
    name = next(iter(booted))
    first = Console(api_client, ns, name)
    first.login("fedora", "s3cret")
    second = Console(api_client, ns, name)
    with pytest.raises(Exception):  # noqa: B017 - the server closed it; any error will do
        for _ in range(5):
            first.ws.recv()
    second.send("\r")
    second.expect(r"[$#] $")  # same session, still logged in
    second.send("(sleep 0.3; echo LATE-OUTPUT) & true\r")
    second.expect(r"[$#] $")
    second.close()
    time.sleep(0.8)  # the guest prints while nobody is attached
    second = Console(api_client, ns, name)
    second.expect("LATE-OUTPUT")
    second.send("exit\r")
    second.expect(r"login: ")
    second.close()


def test_write_files_stay_inside_the_guest(api_client: kubernetes.client.ApiClient, kv: Any,
                                           ns: str) -> None:
    files = ("write_files:\n- path: /usr/local/bin/kvs-lab-hello\n  permissions: '0755'\n"
             "  content: |\n    #!/bin/sh\n    echo hello-from-write-files\n"
             "runcmd:\n- echo ran > $HOME/runcmd-ran\n")
    create_vm(kv, ns, vm_manifest("wf", user_data=cloud_init("pw", files)))
    wait_printable(kv, ns, "wf", "Running")
    console = Console(api_client, ns, "wf")
    console.login("fedora", "pw")
    assert console.run("kvs-lab-hello") == (0, "hello-from-write-files")
    assert console.run("command -v fio >/dev/null || echo no-fio")[1] == "no-fio"
    assert console.run("cloud-init status --wait")[1].endswith("status: done")
    assert console.run("cat $HOME/runcmd-ran") == (0, "ran")
    console.close()
    assert not os.path.exists("/usr/local/bin/kvs-lab-hello")


def test_stop_ends_the_guest_and_detaches(lab: Any, api_client: kubernetes.client.ApiClient,
                                          core: Any, kv: Any, ns: str,
                                          booted: dict[str, Any]) -> None:
    name = list(booted)[-1]
    uid = get_vmi(kv, ns, name)["metadata"]["uid"]
    guest = lab.ctx.extras["compute"].guests[uid]
    pid = guest.process.pid
    assert vm_action(api_client, ns, name, "stop") == 202
    vm = wait_printable(kv, ns, name, "Stopped")
    assert "ready" not in vm["status"] and "created" not in vm["status"]  # omitempty
    assert not os.path.exists(f"/proc/{pid}")
    pv = core.read_namespaced_persistent_volume_claim(f"{name}-data", ns).spec.volume_name
    wait_for(lambda: [a for a in kubernetes.client.StorageV1Api(api_client)
                      .list_volume_attachment().items
                      if a.spec.source.persistent_volume_name == pv],
             lambda found: not found, "the volume to be detached")
    with pytest.raises(kubernetes.client.ApiException) as refused:
        vm_action(api_client, ns, name, "stop")
    assert refused.value.status == 409 and "VM is not running" in refused.value.body


@pytest.mark.slow
def test_restart_replaces_the_vmi(api_client: kubernetes.client.ApiClient, kv: Any, ns: str,
                                  booted: dict[str, Any]) -> None:
    """The marker written before the restart is read back by the new VMI's guest (the
    test writes it itself: it must not depend on another test having run first)."""
    name = next(iter(booted))
    disk = f"$PROBE_DEV_ROOT/dev/disk/by-id/virtio-{name}-data"
    console = Console(api_client, ns, name)
    console.login("fedora", "s3cret")
    assert console.run(f"printf '{MARKER}' | dd of={disk} bs=4096 seek=3 "
                       "conv=notrunc,fsync 2>/dev/null && echo written") == (0, "written")
    console.close()
    old = get_vmi(kv, ns, name)["metadata"]["uid"]
    assert vm_action(api_client, ns, name, "restart") == 202
    fresh = wait_for(lambda: get_vmi(kv, ns, name),
                     lambda v: v and v["metadata"]["uid"] != old
                     and v.get("status", {}).get("phase") == "Running", "a new VMI")
    assert fresh["metadata"]["ownerReferences"][0]["kind"] == "VirtualMachine"
    console = Console(api_client, ns, name)
    console.login("fedora", "s3cret")
    assert console.run(f"dd if={disk} bs=4096 skip=3 count=1 2>/dev/null | head -c "
                       f"{len(MARKER)}")[1] == MARKER
    console.close()


def test_deleting_the_vm_ends_its_guest(lab: Any, core: Any, kv: Any, ns: str) -> None:
    vmi = get_vmi(kv, ns, "wf")
    guest = lab.ctx.extras["compute"].guests[vmi["metadata"]["uid"]]
    pid = guest.process.pid
    kv.delete_namespaced_custom_object("kubevirt.io", "v1", ns, "virtualmachines", "wf")
    wait_for(lambda: get_vmi(kv, ns, "wf"), lambda found: not found, "the VMI to go")
    assert not os.path.exists(f"/proc/{pid}")
    wait_for(lambda: core.list_namespaced_pod(ns, label_selector="vm.kubevirt.io/name=wf").items,
             lambda pods: not pods, "the launcher pod to go")


def test_guest_agent_subresources(api_client: kubernetes.client.ApiClient, ns: str,
                                  booted: dict[str, Any]) -> None:
    name = next(iter(booted))
    base = f"/apis/subresources.kubevirt.io/v1/namespaces/{ns}/virtualmachineinstances/{name}"

    def get(sub: str) -> Any:
        return api_client.call_api(f"{base}/{sub}", "GET", auth_settings=["BearerToken"],
                                   response_type="object", _return_http_data_only=True)
    info = get("guestosinfo")
    assert info["os"]["id"] and info["hostname"] == name and info["guestAgentVersion"]
    disks = get("filesystemlist")["items"][0]["disk"]
    assert disks == [{"serial": f"{name}-data", "busType": "virtio"}]
    assert get("userlist")["items"][0]["userName"] == "fedora"
