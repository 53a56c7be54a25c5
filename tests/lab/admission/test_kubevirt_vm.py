"""KubeVirt's VM webhook in the lab (kubevirt/kubevirt vms-admitter.go,
pkg/storage/admitters/data-volume-template.go): the template goes through the VMI spec
checks, DataVolume templates and the run strategy are checked, 422 each time."""

from __future__ import annotations

from typing import Any

import kubernetes
from admhelpers import KV, LONG_USER_DATA, refusal, storage, vm, vmi_spec, with_disk

WEBHOOK = 'admission webhook "virtualmachine-validator.kubevirt.io" denied the request: '


def _custom(api_client: Any) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(api_client)


def _refused(api_client: Any, ns: str, body: dict[str, Any]) -> dict[str, Any]:
    code, status = refusal(lambda: _custom(api_client).create_namespaced_custom_object(
        *KV, ns, "virtualmachines", body, dry_run="All"))
    assert code == 422 and status["reason"] == "Invalid"
    return status


def _assert_one(status: dict[str, Any], message: str, field: str) -> None:
    assert status["message"] == WEBHOOK + message
    assert status["details"]["causes"] == [
        {"reason": status["details"]["causes"][0]["reason"], "message": message,
         "field": field}]


def _template(name: str, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": spec}


def test_template_user_data_over_2048_bytes(api_client: Any, ns: str) -> None:
    status = _refused(api_client, ns, vm("big-ud", vmi_spec(user_data=LONG_USER_DATA)))
    _assert_one(status, "spec.template.spec.volumes[1].cloudInitNoCloud userdata exceeds 2048 "
                "byte limit. Should use UserDataSecretRef for larger data.",
                "spec.template.spec.volumes[1].cloudInitNoCloud")


def test_template_disk_without_volume(api_client: Any, ns: str) -> None:
    spec = with_disk(vmi_spec(), {"name": "ghost", "disk": {"bus": "virtio"}}, None)
    status = _refused(api_client, ns, vm("ghost", spec))
    _assert_one(status, "spec.template.spec.domain.devices.disks[2].Name 'ghost' not found.",
                "spec.template.spec.domain.devices.disks[2].name")


def test_template_bad_serial_and_bus(api_client: Any, ns: str) -> None:
    spec = with_disk(vmi_spec(), {"name": "data", "serial": "a/b", "disk": {"bus": "nvme"}},
                     {"name": "data", "emptyDisk": {"capacity": "1Gi"}})
    status = _refused(api_client, ns, vm("serial", spec))
    at = "spec.template.spec.domain.devices.disks[2]"
    assert [(c["field"], c["message"]) for c in status["details"]["causes"]] == [
        (f"{at}.disk.bus", f"{at} is set with an unrecognized bus nvme, must be one of: "
                           "[virtio scsi sata usb]"),
        (f"{at}.serial", f"{at} must be made up of the following characters "
                         "[A-Za-z0-9_.+-], if specified")]


def test_a_vm_volume_needs_no_disk_but_a_vmi_one_does(api_client: Any, ns: str) -> None:
    """The volume-to-disk mapping is a VMI-only check in KubeVirt (the VM admitter does
    not run it), so such a VM is admitted."""
    spec = vmi_spec()
    spec["volumes"].append({"name": "extra", "emptyDisk": {"capacity": "1Gi"}})
    _custom(api_client).create_namespaced_custom_object(*KV, ns, "virtualmachines",
                                                        vm("extra", spec), dry_run="All")


def test_run_strategy_is_required(api_client: Any, ns: str) -> None:
    status = _refused(api_client, ns, vm("no-strategy", run_strategy=None))
    _assert_one(status, "RunStrategy must be specified", "spec.running")


def test_running_and_run_strategy_are_exclusive(api_client: Any, ns: str) -> None:
    body = vm("both")
    body["spec"]["running"] = False
    status = _refused(api_client, ns, body)
    _assert_one(status, "Running and RunStrategy are mutually exclusive. Note that Running is "
                "deprecated, please use RunStrategy instead", "spec.running")


def test_datavolume_template_must_be_referenced(api_client: Any, ns: str) -> None:
    body = vm("unref", templates=[_template("orphan", source={"blank": {}},
                                            storage=storage())])
    status = _refused(api_client, ns, body)
    _assert_one(status, "DataVolumeTemplate entry spec.dataVolumeTemplate[0] must be referenced "
                "in the VMI template's 'volumes' list", "spec.dataVolumeTemplate[0]")


def test_datavolume_template_storage_and_pvc(api_client: Any, ns: str) -> None:
    spec = with_disk(vmi_spec(), {"name": "d", "disk": {"bus": "virtio"}},
                     {"name": "d", "dataVolume": {"name": "d"}})
    both = _template("d", source={"blank": {}}, storage=storage(), pvc=storage())
    _assert_one(_refused(api_client, ns, vm("both-targets", spec, templates=[both])),
                "Duplicate storage definition, both target storage and target pvc defined",
                "spec.dataVolumeTemplate[0].PVC.Storage")
    neither = _template("d", source={"blank": {}})
    _assert_one(_refused(api_client, ns, vm("no-target", spec, templates=[neither])),
                "Missing Data volume PVC or Storage", "spec.dataVolumeTemplate[0].PVC.Storage")


def test_datavolume_template_sources(api_client: Any, ns: str) -> None:
    spec = with_disk(vmi_spec(), {"name": "d", "disk": {"bus": "virtio"}},
                     {"name": "d", "dataVolume": {"name": "d"}})
    two = _template("d", source={"blank": {}, "http": {"url": "http://x/y"}}, storage=storage())
    _assert_one(_refused(api_client, ns, vm("two-sources", spec, templates=[two])),
                "Multiple dataVolume sources", "spec.dataVolumeTemplate[0].source")
    none = _template("d", storage=storage())
    _assert_one(_refused(api_client, ns, vm("no-source", spec, templates=[none])),
                "Data volume should have either Source, SourceRef, or be externally populated",
                "spec.dataVolumeTemplate[0].source.sourceRef")


def test_datavolume_template_in_another_namespace(api_client: Any, ns: str) -> None:
    spec = with_disk(vmi_spec(), {"name": "d", "disk": {"bus": "virtio"}},
                     {"name": "d", "dataVolume": {"name": "d"}})
    template = _template("d", source={"blank": {}}, storage=storage())
    template["metadata"]["namespace"] = "default"
    status = _refused(api_client, ns, vm("elsewhere", spec, templates=[template]))
    _assert_one(status, f"Embedded DataVolume namespace default differs from VM namespace {ns}",
                "spec.dataVolumeTemplates[0]")


def test_an_update_goes_through_the_same_checks(api_client: Any, ns: str) -> None:
    _custom(api_client).create_namespaced_custom_object(*KV, ns, "virtualmachines", vm("later"))
    for _ in range(10):  # the VM controller writes its status meanwhile: retry on 409
        changed = _custom(api_client).get_namespaced_custom_object(
            *KV, ns, "virtualmachines", "later")
        changed["spec"]["template"]["spec"]["volumes"][1]["cloudInitNoCloud"]["userData"] = \
            LONG_USER_DATA
        code, status = refusal(lambda: _custom(api_client).replace_namespaced_custom_object(
            *KV, ns, "virtualmachines", "later", changed))  # noqa: B023
        if code != 409:
            break
    assert code == 422
    assert status["message"].startswith(WEBHOOK + "spec.template.spec.volumes[1]."
                                        "cloudInitNoCloud userdata exceeds 2048 byte limit")
    labelled = _custom(api_client).patch_namespaced_custom_object(
        *KV, ns, "virtualmachines", "later", {"metadata": {"labels": {"a": "b"}}})
    assert labelled["metadata"]["labels"] == {"a": "b"}
    _custom(api_client).delete_namespaced_custom_object(*KV, ns, "virtualmachines", "later")
