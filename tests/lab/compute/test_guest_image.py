"""Guests behave like the image they boot and like cloud-init does: user data from a
Secret (and kubelet's FailedMount while it is missing), ErrImagePull for an image the
cluster cannot pull, fio only where the image or a connected package install brings it,
the final cloud-init line after the login prompt, `cloud-init status --wait`."""

from __future__ import annotations

import base64
from typing import Any

import kubernetes
import pytest
from kvhelpers import (
    Console,
    cloud_init,
    create_vm,
    get_vmi,
    vm_manifest,
    wait_for,
    wait_printable,
)

from suite.lab.clusterprofile import FEDORA_FIO_IMAGE

FIO_PACKAGES = "packages:\n- fio\n- fio-engine-libaio\n"


def _secret_vm(name: str, secret: str) -> dict[str, Any]:
    vm = vm_manifest(name, user_data="")
    volumes = vm["spec"]["template"]["spec"]["volumes"]
    volumes[1] = {"name": "cloudinitdisk",
                  "cloudInitNoCloud": {"secretRef": {"name": secret}}}
    return vm


def _events(core: Any, ns: str, name: str) -> list[tuple[str, str]]:
    return [(e.reason, e.message) for e in core.list_namespaced_event(ns).items
            if e.involved_object.name == name]


def _launcher(core: Any, kv: Any, ns: str, vm: str) -> Any:
    uid = get_vmi(kv, ns, vm)["metadata"]["uid"]
    return wait_for(lambda: core.list_namespaced_pod(
        ns, label_selector=f"kubevirt.io/created-by={uid}").items,
        lambda pods: pods, "the launcher pod")[0]


@pytest.mark.slow
def test_user_data_from_a_secret_and_failed_mount_until_it_exists(
        api_client: kubernetes.client.ApiClient, core: Any, kv: Any, ns: str) -> None:
    create_vm(kv, ns, _secret_vm("sec", "sec-userdata"))
    wait_for(lambda: get_vmi(kv, ns, "sec"), lambda v: v, "the VMI")
    pod = _launcher(core, kv, ns, "sec")
    failed = ('MountVolume.SetUp failed for volume "cloudinitdisk-udata" : '
              'secret "sec-userdata" not found')
    wait_for(lambda: _events(core, ns, pod.metadata.name),
             lambda events: ("FailedMount", failed) in events, "kubelet's FailedMount")
    assert get_vmi(kv, ns, "sec")["status"]["phase"] == "Scheduling"
    assert get_vmi(kv, ns, "sec")["status"]["phase"] != "Running"
    text = cloud_init("from-secret")
    core.create_namespaced_secret(ns, {"metadata": {"name": "sec-userdata"},
                                       "data": {"userdata": base64.b64encode(
                                           text.encode()).decode()}})
    wait_printable(kv, ns, "sec", "Running")
    console = Console(api_client, ns, "sec")
    console.login("fedora", "from-secret")
    assert console.run("echo in")[1] == "in"
    console.close()


@pytest.mark.slow
def test_an_image_the_cluster_cannot_pull(core: Any, kv: Any, ns: str) -> None:
    image = "registry.example.com/nowhere/fedora:41"
    create_vm(kv, ns, vm_manifest("nopull", user_data=cloud_init("pw"), image=image))
    wait_printable(kv, ns, "nopull", "ErrImagePull")
    vmi = get_vmi(kv, ns, "nopull")
    synced = next(c for c in vmi["status"]["conditions"] if c["type"] == "Synchronized")
    assert synced["status"] == "False" and "manifest unknown" in synced["message"]
    pod = _launcher(core, kv, ns, "nopull")
    events = _events(core, ns, pod.metadata.name)
    assert ("Failed", "Error: ErrImagePull") in events
    assert any(reason == "Failed" and message.startswith(f'Failed to pull image "{image}"')
               for reason, message in events)
    wait_printable(kv, ns, "nopull", "ImagePullBackOff")
    waiting = next(s for s in core.read_namespaced_pod(pod.metadata.name, ns)
                   .status.container_statuses if s.name == "volumerootdisk")
    assert waiting.state.waiting.reason == "ImagePullBackOff"
    assert get_vmi(kv, ns, "nopull")["status"]["phase"] != "Running"


@pytest.mark.slow
def test_fio_as_the_image_and_cloud_init_bring_it(api_client: kubernetes.client.ApiClient,
                                                  kv: Any, ns: str) -> None:
    create_vm(kv, ns, vm_manifest("plain", user_data=cloud_init("pw")))
    create_vm(kv, ns, vm_manifest("withfio", user_data=cloud_init("pw"),
                                  image=FEDORA_FIO_IMAGE))
    create_vm(kv, ns, vm_manifest("pkgs", user_data=cloud_init("pw", FIO_PACKAGES)))
    for name in ("plain", "withfio", "pkgs"):
        wait_printable(kv, ns, name, "Running")
    found = {}
    for name in ("plain", "withfio"):
        console = Console(api_client, ns, name)
        console.login("fedora", "pw")
        found[name] = console.run("command -v fio >/dev/null && echo yes || echo no")[1]
        console.close()
    assert found == {"plain": "no", "withfio": "yes"}
    console = Console(api_client, ns, "pkgs")
    console.login("fedora", "pw")
    status, out = console.run("cloud-init status --wait", 30)
    assert (status, out.splitlines()[-1]) == (0, "status: done")
    assert console.run("fio --version")[0] == 0
    console.close()


@pytest.mark.slow
def test_cloud_init_finishes_after_login_works(api_client: kubernetes.client.ApiClient,
                                               kv: Any, ns: str) -> None:
    create_vm(kv, ns, vm_manifest("late", user_data=cloud_init("pw", FIO_PACKAGES)))
    wait_printable(kv, ns, "late", "Running")
    console = Console(api_client, ns, "late")
    before_login = console.expect(r"login: ", 30)
    assert "Cloud-init v." not in before_login
    console.send("fedora\r")
    console.expect("Password: ")
    console.send("pw\r")
    console.expect(r"[$#] ")
    console.expect(r"Cloud-init v\. \S+ finished at .+ Datasource DataSourceNoCloud", 30)
    console.close()


@pytest.mark.slow
def test_air_gapped_package_installs_fail_as_cloud_init_logs_them(
        lab_factory: Any) -> None:
    lab = lab_factory("drivers:\n- name: only\n  provisioner: only.csi.lab.io\n"
                      "  modes: {Block: [ReadWriteOnce]}\n"
                      "cluster:\n  guestPackages: air-gapped\n")
    client = kubernetes.config.new_client_from_config(config_file=str(lab.kubeconfig_path))
    kv = kubernetes.client.CustomObjectsApi(client)
    kv.create_namespaced_custom_object("kubevirt.io", "v1", "default", "virtualmachines",
                                       vm_manifest("gap", user_data=cloud_init(
                                           "pw", FIO_PACKAGES)))
    wait_printable(kv, "default", "gap", "Running")
    console = Console(client, "default", "gap")
    transcript = _login(console, "fedora", "pw")
    console.send("cloud-init status --wait; echo exit=$?\r")
    transcript += console.expect(r"exit=\d+", 30)
    assert "status: error" in transcript and "exit=1" in transcript
    assert "util.py[WARNING]: Failed to install packages: ['fio', 'fio-engine-libaio']" \
        in transcript
    assert "Could not resolve host: mirrors.fedoraproject.org" in transcript
    assert console.run("command -v fio >/dev/null && echo yes || echo no")[1] == "no"
    console.close()
    client.close()


def _login(console: Console, user: str, password: str) -> str:
    """Log in on a fresh guest, keeping everything the console showed."""
    console.send("\r")
    text = console.expect(r"login: ", 30)
    console.send(user + "\r")
    text += console.expect("Password: ")
    console.send(password + "\r")
    return text + console.expect(r"[$#] ")
