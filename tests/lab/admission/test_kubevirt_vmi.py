"""KubeVirt's VMI create webhook in the lab: each rule refused with KubeVirt's code,
webhook name, message and cause field (kubevirt/kubevirt vmi-create-admitter.go,
pkg/storage/admitters/disks.go)."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import kubernetes
import pytest
from admhelpers import KV, LONG_USER_DATA, create_custom, refusal, vmi, vmi_spec, with_disk

WEBHOOK = 'admission webhook "virtualmachineinstances-create-validator.kubevirt.io" denied ' \
          "the request: "
LONG = LONG_USER_DATA


def _refused(api_client: Any, ns: str, spec: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    body = vmi("refused", spec)
    return refusal(lambda: kubernetes.client.CustomObjectsApi(api_client)
                   .create_namespaced_custom_object(*KV, ns, "virtualmachineinstances", body,
                                                    dry_run="All"))


def _assert_one(status: dict[str, Any], message: str, field: str | None) -> None:
    assert status["code"] == 422 and status["reason"] == "Invalid"
    assert status["message"] == WEBHOOK + message
    cause = status["details"]["causes"][0]
    assert cause["message"] == message
    assert cause.get("field") == field


def test_a_valid_vmi_is_admitted(api_client: Any, ns: str) -> None:
    created = kubernetes.client.CustomObjectsApi(api_client).create_namespaced_custom_object(
        *KV, ns, "virtualmachineinstances", vmi("fine"), dry_run="All")
    assert created["metadata"]["name"] == "fine"


@pytest.mark.parametrize("source", [
    {"userData": LONG},
    {"userDataBase64": base64.b64encode(LONG.encode()).decode()},
])
def test_inline_user_data_over_2048_bytes(api_client: Any, ns: str,
                                          source: dict[str, str]) -> None:
    spec = vmi_spec()
    spec["volumes"][1]["cloudInitNoCloud"] = source
    code, status = _refused(api_client, ns, spec)
    assert code == 422
    _assert_one(status, "spec.volumes[1].cloudInitNoCloud userdata exceeds 2048 byte limit. "
                "Should use UserDataSecretRef for larger data.", "spec.volumes[1].cloudInitNoCloud")


def test_user_data_of_exactly_2048_bytes_is_admitted(api_client: Any, ns: str) -> None:
    text = "#cloud-config\n" + "x" * (2048 - len("#cloud-config\n"))
    body = vmi("edge", vmi_spec(user_data=text))
    kubernetes.client.CustomObjectsApi(api_client).create_namespaced_custom_object(
        *KV, ns, "virtualmachineinstances", body, dry_run="All")


def test_inline_network_data_over_2048_bytes(api_client: Any, ns: str) -> None:
    spec = vmi_spec()
    spec["volumes"][1]["cloudInitConfigDrive"] = {
        "userData": "#cloud-config\n", "networkData": "version: 2\n" + "#" * 2048}
    del spec["volumes"][1]["cloudInitNoCloud"]
    code, status = _refused(api_client, ns, spec)
    assert code == 422
    _assert_one(status, "spec.volumes[1].cloudInitConfigDrive networkdata exceeds 2048 byte "
                "limit. Should use NetworkDataSecretRef for larger data.",
                "spec.volumes[1].cloudInitConfigDrive")


def test_two_user_data_sources(api_client: Any, ns: str) -> None:
    spec = vmi_spec()
    spec["volumes"][1]["cloudInitNoCloud"]["secretRef"] = {"name": "ud"}
    _, status = _refused(api_client, ns, spec)
    _assert_one(status, "spec.volumes[1].cloudInitNoCloud must have only one userdatasource "
                "set.", "spec.volumes[1].cloudInitNoCloud")


def test_a_volume_without_a_disk(api_client: Any, ns: str) -> None:
    spec = vmi_spec()
    spec["volumes"].append({"name": "extra", "emptyDisk": {"capacity": "1Gi"}})
    _, status = _refused(api_client, ns, spec)
    _assert_one(status, "spec.domain.volumes[2].name 'extra' not found.",
                "spec.domain.volumes[2].name")


def test_a_disk_without_a_volume(api_client: Any, ns: str) -> None:
    spec = with_disk(vmi_spec(), {"name": "ghost", "disk": {"bus": "virtio"}}, None)
    _, status = _refused(api_client, ns, spec)
    _assert_one(status, "spec.domain.devices.disks[2].Name 'ghost' not found.",
                "spec.domain.devices.disks[2].name")


def test_duplicate_disk_names(api_client: Any, ns: str) -> None:
    spec = vmi_spec()
    spec["domain"]["devices"]["disks"].append(copy.deepcopy(
        spec["domain"]["devices"]["disks"][1]))
    _, status = _refused(api_client, ns, spec)
    _assert_one(status, "spec.domain.devices.disks[2] and spec.domain.devices.disks[1] must "
                "not have the same Name.", "spec.domain.devices.disks[2].name")


def test_duplicate_volume_names(api_client: Any, ns: str) -> None:
    spec = vmi_spec()
    spec["volumes"].append({"name": "cloudinit", "emptyDisk": {"capacity": "1Gi"}})
    _, status = _refused(api_client, ns, spec)
    _assert_one(status, "spec.volumes[2] and spec.volumes[1] must not have the same Name.",
                "spec.volumes[2].name")


def test_a_volume_with_two_sources(api_client: Any, ns: str) -> None:
    spec = vmi_spec()
    spec["volumes"][0]["emptyDisk"] = {"capacity": "1Gi"}
    _, status = _refused(api_client, ns, spec)
    _assert_one(status, "spec.volumes[0] must have exactly one source type set",
                "spec.volumes[0]")


@pytest.mark.parametrize(("serial", "message"), [
    ("has space", "spec.domain.devices.disks[2] must be made up of the following characters "
                  "[A-Za-z0-9_.+-], if specified"),
    ("s" * 257, "spec.domain.devices.disks[2] must be less than or equal to 256 in length, "
                "if specified"),
])
def test_serial_format_and_length(api_client: Any, ns: str, serial: str, message: str) -> None:
    spec = with_disk(vmi_spec(), {"name": "data", "serial": serial, "disk": {"bus": "virtio"}},
                     {"name": "data", "emptyDisk": {"capacity": "1Gi"}})
    _, status = _refused(api_client, ns, spec)
    _assert_one(status, message, "spec.domain.devices.disks[2].serial")


def test_a_serial_of_256_allowed_characters_is_admitted(api_client: Any, ns: str) -> None:
    spec = with_disk(vmi_spec(), {"name": "data", "serial": "A-z_0.9+" * 32,
                                  "disk": {"bus": "virtio"}},
                     {"name": "data", "emptyDisk": {"capacity": "1Gi"}})
    kubernetes.client.CustomObjectsApi(api_client).create_namespaced_custom_object(
        *KV, ns, "virtualmachineinstances", vmi("serial256", spec), dry_run="All")


@pytest.mark.parametrize(("bus", "message"), [
    ("floppy", "spec.domain.devices.disks[2] is set with an unrecognized bus floppy, must be "
               "one of: [virtio scsi sata usb]"),
    ("ide", "IDE bus is not supported"),
])
def test_disk_bus(api_client: Any, ns: str, bus: str, message: str) -> None:
    spec = with_disk(vmi_spec(), {"name": "data", "disk": {"bus": bus}},
                     {"name": "data", "emptyDisk": {"capacity": "1Gi"}})
    _, status = _refused(api_client, ns, spec)
    _assert_one(status, message, "spec.domain.devices.disks[2].disk.bus")


def test_virtio_cdrom_is_refused(api_client: Any, ns: str) -> None:
    spec = with_disk(vmi_spec(), {"name": "cd", "cdrom": {"bus": "virtio"}},
                     {"name": "cd", "containerDisk": {"image": "quay.io/containerdisks/fedora:41"}})
    _, status = _refused(api_client, ns, spec)
    _assert_one(status, "Bus type virtio is invalid for CD-ROM device",
                "spec.domain.devices.disks[2].cdrom.bus")


def test_no_memory_requested(api_client: Any, ns: str) -> None:
    spec = vmi_spec()
    del spec["domain"]["resources"]
    _, status = _refused(api_client, ns, spec)
    _assert_one(status, "no memory requested, at least one of 'spec.domain.memory.guest', "
                "'spec.domain.memory.hugepages.pageSize' or "
                "'spec.domain.resources.requests.memory' must be set", None)


def test_several_causes_are_joined(api_client: Any, ns: str) -> None:
    spec = with_disk(vmi_spec(), {"name": "data", "serial": "bad serial", "disk": {"bus": "x"}},
                     {"name": "data", "emptyDisk": {"capacity": "1Gi"}})
    _, status = _refused(api_client, ns, spec)
    messages = [c["message"] for c in status["details"]["causes"]]
    assert len(messages) == 2
    assert status["message"] == WEBHOOK + ", ".join(messages)


def test_kubectl_prints_the_denial(kubectl: Any, ns: str) -> None:
    """kubectl prints an Invalid Status without kind and name (a webhook's) as
    `The request is invalid: <field>: <message>`, as users of real KubeVirt see it."""
    body = vmi("by-kubectl", vmi_spec(user_data=LONG))
    result = kubectl("create", "--dry-run=server", "-n", ns, "-f", "-",
                     stdin=json.dumps(body), check=False)
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "The request is invalid: spec.volumes[1].cloudInitNoCloud: spec.volumes[1]."
        "cloudInitNoCloud userdata exceeds 2048 byte limit. Should use UserDataSecretRef "
        "for larger data.")


def test_create_custom_helper_is_exercised(api_client: Any, ns: str) -> None:
    """The shared helper creates for real; a VMI refused for real is not stored."""
    body = vmi("never", vmi_spec(user_data=LONG))
    code, _ = refusal(lambda: create_custom(api_client, KV, ns, "virtualmachineinstances",
                                            body))
    assert code == 422
    assert refusal(lambda: kubernetes.client.CustomObjectsApi(api_client)
                   .get_namespaced_custom_object(*KV, ns, "virtualmachineinstances",
                                                 "never"))[0] == 404


@pytest.mark.parametrize(("disk", "message", "field"), [
    ({"name": "data", "disk": {}, "cdrom": {}},
     "spec.domain.devices.disks[2] can only have a single target type defined",
     "spec.domain.devices.disks[2]"),
    ({"name": "data", "disk": {}, "bootOrder": 0},
     "spec.domain.devices.disks[2] must have a boot order > 0, if supplied",
     "spec.domain.devices.disks[2].bootOrder"),
    ({"name": "data", "disk": {}, "cache": "unsafe"},
     "spec.domain.devices.disks[2].cache has invalid value unsafe",
     "spec.domain.devices.disks[2].cache"),
    ({"name": "data", "disk": {}, "errorPolicy": "panic"},
     'spec.domain.devices.disks[2].errorPolicy has invalid value "panic"',
     "spec.domain.devices.disks[2].errorPolicy"),
])
def test_other_disk_rules(api_client: Any, ns: str, disk: dict[str, Any], message: str,
                          field: str) -> None:
    spec = with_disk(vmi_spec(), disk, {"name": "data", "emptyDisk": {"capacity": "1Gi"}})
    _, status = _refused(api_client, ns, spec)
    _assert_one(status, message, field)


def test_duplicate_boot_orders(api_client: Any, ns: str) -> None:
    spec = vmi_spec()
    for disk in spec["domain"]["devices"]["disks"]:
        disk["bootOrder"] = 1
    _, status = _refused(api_client, ns, spec)
    _assert_one(status, "Boot order for spec.domain.devices.disks[1].bootOrder already set for "
                "a different device.", "spec.domain.devices.disks[1].bootOrder")


def test_a_disk_name_must_be_a_container_name(api_client: Any, ns: str) -> None:
    spec = vmi_spec()
    spec["domain"]["devices"]["disks"][1]["name"] = "Cloud_Init"
    spec["volumes"][1]["name"] = "Cloud_Init"
    _, status = _refused(api_client, ns, spec)
    assert status["details"]["causes"] == [{
        "reason": "FieldValueInvalid",
        "field": "spec.domain.devices.disks.domain.devices.disks[1].name",  # KubeVirt's path
        "message": "a lowercase RFC 1123 label must consist of lower case alphanumeric "
                   "characters or '-', and must start and end with an alphanumeric character "
                   "(e.g. 'my-name',  or '123-abc', regex used for validation is "
                   "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"}]


def test_a_client_may_not_change_a_vmi_spec(lab: Any, api_client: Any, ns: str) -> None:
    """Only KubeVirt's service accounts may (vmi-update-admitter.go); labels are fine."""
    stored = vmi("static")
    stored["metadata"]["namespace"] = ns
    stored["status"] = {"phase": "Failed"}  # a final VMI: the lab's controller leaves it be
    lab.call(lab.ctx.store.create, "kubevirt.io/virtualmachineinstances", stored)
    custom = kubernetes.client.CustomObjectsApi(api_client)
    code, status = refusal(lambda: custom.patch_namespaced_custom_object(
        *KV, ns, "virtualmachineinstances", "static",
        {"spec": {"domain": {"resources": {"requests": {"memory": "256Mi"}}}}}))
    assert code == 422 and status["reason"] == "Invalid"
    assert status["message"] == ('admission webhook "virtualmachineinstances-update-validator.'
                                 'kubevirt.io" denied the request: update of VMI object is '
                                 "restricted")
    labelled = custom.patch_namespaced_custom_object(
        *KV, ns, "virtualmachineinstances", "static", {"metadata": {"labels": {"a": "b"}}})
    assert labelled["metadata"]["labels"]["a"] == "b"
