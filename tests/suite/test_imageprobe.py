"""The image probe's reading of KubeVirt's status and its one-line error (pure logic)."""

from __future__ import annotations

from suite.vm.imageprobe import probe_vm, pull_state, unpullable_message


def _vmi(phase: str, reason: str = "", message: str = "") -> dict:
    conditions = [{"type": "Synchronized", "status": "False", "reason": reason,
                   "message": message}] if reason else []
    return {"status": {"phase": phase, "conditions": conditions}}


def test_scheduled_or_running_proves_the_pull() -> None:
    assert pull_state(None, _vmi("Scheduled"))[0] == "pulled"
    assert pull_state(None, _vmi("Running"))[0] == "pulled"
    assert pull_state(None, _vmi("Scheduling"))[0] == ""
    assert pull_state(None, _vmi("Pending"))[0] == ""


def test_pull_errors_from_the_vmi_condition_or_the_vm_status() -> None:
    assert pull_state(None, _vmi("Scheduling", "ErrImagePull", "manifest unknown")) == (
        "ErrImagePull", "manifest unknown")
    vm = {"status": {"printableStatus": "ImagePullBackOff"}}
    assert pull_state(vm, None) == ("ImagePullBackOff", "")
    assert pull_state({"status": {"printableStatus": "ErrorUnschedulable"}},
                      _vmi("Scheduling", "FailedCreate", "x")) == ("", "")


def test_the_error_is_one_line_naming_the_image_and_the_fix() -> None:
    text = unpullable_message("reg/x:1", "ImagePullBackOff", 25.4,
                              "rpc error:\n  manifest unknown", "full")
    assert "\n" not in text
    assert text.startswith("guest image reg/x:1 cannot be pulled (ImagePullBackOff for 25s: "
                           "rpc error: manifest unknown)")
    assert "set guest.image in profile 'full'" in text and "air-gapped" in text


def test_the_probe_vm_has_only_the_containerdisk() -> None:
    vm = probe_vm("kvs-image-probe-ab12", "ns", "reg/x:1", "256Mi")
    volumes = vm["spec"]["template"]["spec"]["volumes"]
    assert volumes == [{"name": "rootdisk", "containerDisk": {"image": "reg/x:1"}}]
    assert vm["metadata"]["labels"] == {"kvstorage.io/role": "image-probe"}
