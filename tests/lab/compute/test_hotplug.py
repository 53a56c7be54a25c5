"""Volume hotplug as virtctl drives it: addvolume / removevolume on the VM (persisted
through status.volumeRequests) and on the VMI, an hp-volume-* attachment pod, the
volumeStatus phases up to Ready, the guest seeing the disk by its serial and losing it
on removal; the HotplugVolumes gate off gives virt-api's 400; the
`hotplug-disk-invisible` fault reports Ready while the guest never sees the disk."""

from __future__ import annotations

from typing import Any

import kubernetes
import pytest
from kvhelpers import (
    Console,
    cloud_init,
    create_vm,
    get_vm,
    get_vmi,
    vm_manifest,
    wait_for,
    wait_printable,
)

CDI = ("cdi.kubevirt.io", "v1beta1")


def _call(api_client: Any, ns: str, plural: str, name: str, verb: str,
          body: dict[str, Any]) -> tuple[int, str]:
    path = f"/apis/subresources.kubevirt.io/v1/namespaces/{ns}/{plural}/{name}/{verb}"
    try:
        _, status, _ = api_client.call_api(path, "PUT", body=body,
                                           auth_settings=["BearerToken"],
                                           _return_http_data_only=False)
        return int(status), ""
    except kubernetes.client.ApiException as exc:
        return int(exc.status), str(exc.body)


def _add_body(volume: str, dv: str, serial: str) -> dict[str, Any]:
    return {"name": volume, "disk": {"disk": {"bus": "virtio"}, "serial": serial},
            "volumeSource": {"dataVolume": {"name": dv}}}


def _blank(kv: Any, ns: str, name: str, storage_class: str = "lab-ceph-rbd") -> None:
    kv.create_namespaced_custom_object(*CDI, ns, "datavolumes", {
        "apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
        "metadata": {"name": name},
        "spec": {"source": {"blank": {}}, "storage": {
            "storageClassName": storage_class, "volumeMode": "Block",
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "64Mi"}}}}})


def _entry(kv: Any, ns: str, vm: str, volume: str) -> dict[str, Any]:
    entries = (get_vmi(kv, ns, vm).get("status") or {}).get("volumeStatus") or []
    return next((e for e in entries if e["name"] == volume), {})


def _sees(console: Console, serial: str) -> bool:
    status, _ = console.run(f"test -e $PROBE_DEV_ROOT/dev/disk/by-id/virtio-{serial}")
    return status == 0


def test_vm_addvolume_attaches_and_removevolume_detaches(api_client: Any, core: Any,
                                                         kv: Any, ns: str) -> None:
    create_vm(kv, ns, vm_manifest("hp", user_data=cloud_init("pw")))
    _blank(kv, ns, "hp-extra")
    wait_printable(kv, ns, "hp", "Running")
    assert _call(api_client, ns, "virtualmachines", "hp", "addvolume",
                 _add_body("extra", "hp-extra", "extra")) == (202, "")
    ready = wait_for(lambda: _entry(kv, ns, "hp", "extra"),
                     lambda e: e.get("phase") == "Ready", "the hotplugged volume Ready", 60)
    assert ready["reason"] == "VolumeReady"
    assert ready["message"] == "Successfully attach hotplugged volume extra to VM"
    pod_name = ready["hotplugVolume"]["attachPodName"]
    assert pod_name.startswith("hp-volume-") and ready["hotplugVolume"]["attachPodUID"]
    pod = core.read_namespaced_pod(pod_name, ns)
    assert pod.metadata.labels == {"kubevirt.io": "hotplug-disk"}
    assert pod.spec.volumes[0].persistent_volume_claim.claim_name == "hp-extra"
    template = get_vm(kv, ns, "hp")["spec"]["template"]["spec"]
    assert {"name": "extra", "dataVolume": {"name": "hp-extra", "hotpluggable": True}} in \
        template["volumes"]
    reasons = [e.reason for e in core.list_namespaced_event(
        ns, field_selector="involvedObject.name=hp").items]
    assert {"SuccessfulCreate", "VolumeMountedToPod", "VolumeReady"} <= set(reasons)

    console = Console(api_client, ns, "hp")
    console.login("fedora", "pw")
    assert _sees(console, "extra")
    status, size = console.run("blockdev --getsize64 $PROBE_DEV_ROOT/dev/disk/by-id/"
                               "virtio-extra 2>/dev/null || stat -L -c %s "
                               "$PROBE_DEV_ROOT/dev/disk/by-id/virtio-extra")
    assert (status, size.strip().splitlines()[-1]) == (0, str(64 << 20))
    status, _ = console.run("printf kvs | dd of=$PROBE_DEV_ROOT/dev/disk/by-id/virtio-extra "
                            "conv=notrunc 2>/dev/null && head -c 3 "
                            "$PROBE_DEV_ROOT/dev/disk/by-id/virtio-extra | grep -q kvs")
    assert status == 0

    assert _call(api_client, ns, "virtualmachines", "hp", "removevolume",
                 {"name": "extra"}) == (202, "")
    wait_for(lambda: _entry(kv, ns, "hp", "extra"), lambda e: not e,
             "the volume's status to go", 60)
    assert not _sees(console, "extra")
    console.close()
    wait_for(lambda: [p.metadata.name for p in core.list_namespaced_pod(ns).items],
             lambda names: pod_name not in names, "the attachment pod to go")
    code, body = _call(api_client, ns, "virtualmachines", "hp", "removevolume",
                       {"name": "extra"})
    assert code == 409 and "Unable to remove volume [extra] because it does not exist" in body


def test_vmi_addvolume_refusals(api_client: Any, kv: Any, ns: str) -> None:
    create_vm(kv, ns, vm_manifest("hpvmi", user_data=cloud_init("pw")))
    wait_printable(kv, ns, "hpvmi", "Running")
    code, body = _call(api_client, ns, "virtualmachineinstances", "hpvmi", "addvolume", {})
    assert code == 400 and "AddVolumeOptions requires name to be set" in body
    code, body = _call(api_client, ns, "virtualmachineinstances", "hpvmi", "addvolume",
                       _add_body("rootdisk", "whatever", "x"))
    assert code == 409
    assert "Unable to add volume [rootdisk] because volume with that name already exists" in body
    code, body = _call(api_client, ns, "virtualmachineinstances", "hpvmi", "removevolume",
                       {"name": "rootdisk"})
    assert code == 409 and "because it is not hotpluggable" in body
    code, body = _call(api_client, ns, "virtualmachineinstances", "nosuch", "addvolume",
                       _add_body("a", "b", "c"))
    assert code == 404


DRIVERS = """
drivers:
- name: liar
  provisioner: liar.csi.lab.io
  modes: {Block: [ReadWriteOnce]}
  faults: [hotplug-disk-invisible]
cluster:
  featureGates: [Snapshot, ExpandDisks, VMExport]
"""


@pytest.fixture
def small(lab_factory: Any) -> Any:
    lab = lab_factory(DRIVERS)
    client = kubernetes.config.new_client_from_config(config_file=str(lab.kubeconfig_path))
    yield client
    client.close()


@pytest.mark.slow
def test_gate_off_then_fault_ready_but_invisible(small: Any, lab_factory: Any) -> None:
    client = small
    kv = kubernetes.client.CustomObjectsApi(client)
    create_vm(kv, "default", vm_manifest("g", user_data=cloud_init("pw")))
    wait_printable(kv, "default", "g", "Running")
    code, body = _call(client, "default", "virtualmachines", "g", "addvolume",
                       _add_body("x", "y", "z"))
    assert code == 400
    assert "Unable to Add Volume because HotplugVolumes feature gate is not enabled." in body

    lab = lab_factory(DRIVERS.replace("featureGates: [Snapshot, ExpandDisks, VMExport]",
                                      "featureGates: [HotplugVolumes]"))
    other = kubernetes.config.new_client_from_config(config_file=str(lab.kubeconfig_path))
    kv = kubernetes.client.CustomObjectsApi(other)
    create_vm(kv, "default", vm_manifest("f", user_data=cloud_init("pw")))
    _blank(kv, "default", "f-extra", "liar")
    wait_printable(kv, "default", "f", "Running")
    assert _call(other, "default", "virtualmachineinstances", "f", "addvolume",
                 _add_body("extra", "f-extra", "extra"))[0] == 202
    wait_for(lambda: _entry(kv, "default", "f", "extra"),
             lambda e: e.get("phase") == "Ready", "Ready", 60)
    console = Console(other, "default", "f")
    console.login("fedora", "pw")
    assert not _sees(console, "extra")
    console.close()
    other.close()
