"""Pure rules of the compute half: cloud-init parsing, printableStatus order,
migratability, exec status, pod scheduling fit."""

from __future__ import annotations

import base64
import gzip
from typing import Any

import pytest

from suite.lab.clusterprofile import parse_cluster
from suite.lab.compute.cloudinit import CloudInitError, find_user_data, parse_user_data
from suite.lab.compute.podexec import exit_status
from suite.lab.compute.podspec import command_of, fits, pod_phase
from suite.lab.compute.printable import printable_status
from suite.lab.compute.vmifacts import hidden_tools, live_migratable
from suite.lab.compute.volumes import attachment_name, disks_of


def test_cloud_config_credentials_files_and_commands() -> None:
    packed = base64.b64encode(gzip.compress(b"zipped")).decode()
    config = parse_user_data(
        "#cloud-config\nuser: cloud-user\npassword: pw1\n"
        "chpasswd: {list: 'root:rootpw'}\nusers: [{name: ops, plain_text_passwd: pw2}]\n"
        "write_files:\n- {path: /etc/a, content: plain}\n"
        f"- {{path: /etc/b, encoding: gzip+b64, content: '{packed}', permissions: '0755'}}\n"
        "runcmd:\n- echo one\n- [touch, /tmp/it's]\n")
    assert config.credentials == {"cloud-user": "pw1", "root": "rootpw", "ops": "pw2"}
    assert [(f.path, f.content, f.permissions) for f in config.files] == [
        ("/etc/a", b"plain", 0o644), ("/etc/b", b"zipped", 0o755)]
    assert config.runcmd == ["echo one", "'touch' '/tmp/it'\"'\"'s'"]


def test_user_data_sources_and_errors() -> None:
    encoded = base64.b64encode(b"#cloud-config\npassword: x\n").decode()
    volumes = [{"name": "c", "cloudInitNoCloud": {"secretRef": {"name": "s"}}}]
    assert find_user_data(volumes, lambda name: {"userdata": encoded}) == \
        "#cloud-config\npassword: x\n"
    assert find_user_data([{"name": "c", "cloudInitNoCloud": {"userDataBase64": encoded}}]) \
        == "#cloud-config\npassword: x\n"
    assert parse_user_data("#!/bin/sh\necho script").credentials == {}
    with pytest.raises(CloudInitError, match=r"write_files\[0\]\.path"):
        parse_user_data("#cloud-config\nwrite_files: [{path: relative, content: x}]")


def _vm(strategy: str = "Always", deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "vm"}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta, "spec": {"runStrategy": strategy}, "status": {}}


def _vmi(phase: str, **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "vm"}, "status": {"phase": phase, **status}}


@pytest.mark.parametrize(("vm", "vmi", "start", "stop", "dvs", "pvcs", "expected"), [
    (_vm(deleting=True), _vmi("Running"), False, False, [], [], "Terminating"),
    (_vm(), _vmi("Running"), False, True, [], [], "Stopping"),
    (_vm(), _vmi("Running", migrationState={"startTimestamp": "2020-01-01T00:00:00Z"}),
     False, False, [], [], "Migrating"),
    (_vm(), _vmi("Running"), False, False, [], [], "Running"),
    (_vm(), _vmi("Pending", conditions=[{"type": "Synchronized", "status": "False",
                                         "reason": "FailedPvcNotFound"}]),
     True, False, [], [], "ErrorPvcNotFound"),
    (_vm(), None, True, False, [{"status": {"phase": "ImportInProgress"}}], [], "Provisioning"),
    (_vm(), None, True, False, [{"status": {"phase": "Failed"}}], [], "DataVolumeError"),
    (_vm(), None, True, False, [], [{"status": {"phase": "Pending"}}],
     "WaitingForVolumeBinding"),
    (_vm(), _vmi("Scheduling"), True, False, [], [], "Starting"),
    (_vm("Halted"), None, False, False, [], [], "Stopped"),
    (_vm(), _vmi("Succeeded"), False, False, [], [], "Stopped"),
])
def test_printable_status_follows_kubevirts_order(vm: Any, vmi: Any, start: bool, stop: bool,
                                                  dvs: Any, pvcs: Any, expected: str) -> None:
    assert printable_status(vm, vmi, start, stop, dvs, pvcs) == expected


def test_live_migratable_names_the_claim() -> None:
    spec = {"domain": {"devices": {"disks": [{"name": "d", "serial": "s"}]}},
            "volumes": [{"name": "d", "dataVolume": {"name": "rootdv"}}]}
    disks = disks_of(spec)
    rwo = {"rootdv": {"spec": {"accessModes": ["ReadWriteOnce"]}}}
    rwx = {"rootdv": {"spec": {"accessModes": ["ReadWriteMany"]}}}
    status, reason, message = live_migratable(disks, rwo, spec)
    assert (status, reason) == ("False", "DisksNotLiveMigratable")
    assert message.startswith("cannot migrate VMI: PVC rootdv is not shared")
    assert live_migratable(disks, rwx, spec) == ("True", "", "")
    assert "Unable to determine" in live_migratable(disks, {}, spec)[2]


def test_attachment_name_is_kubernetes_hash() -> None:
    name = attachment_name("vol-1", "rbd.csi.lab.io", "lab-node-1")
    assert name.startswith("csi-") and len(name) == 68
    assert name != attachment_name("vol-1", "rbd.csi.lab.io", "lab-node-2")


def test_exec_status_matches_the_kubelet() -> None:
    assert exit_status(["true"], 0) == {"metadata": {}, "status": "Success"}
    failed = exit_status(["sh", "-c", "exit 4"], 4)
    assert failed["reason"] == "NonZeroExitCode"
    assert failed["details"]["causes"] == [{"reason": "ExitCode", "message": "4"}]


def test_pod_rules() -> None:
    node = {"metadata": {"labels": {"kubernetes.io/hostname": "n1"}}}
    assert fits(node, {"spec": {"nodeSelector": {"kubernetes.io/hostname": "n1"}}})
    assert not fits(node, {"spec": {"nodeSelector": {"kubernetes.io/hostname": "n2"}}})
    assert command_of({"command": ["sh"], "args": ["-c", "x"]}) == ["sh", "-c", "x"]
    done = {"terminated": {"exitCode": 0}}
    assert pod_phase([done], "Never") == "Succeeded"
    assert pod_phase([{"terminated": {"exitCode": 1}}], "Never") == "Failed"
    assert pod_phase([{"running": {}}, done], "Never") == "Running"
    cluster = parse_cluster({"images": {"a.io/fedora:41": {"fio": False},
                                        "a.io/fedora-fio:41": {"fio": True}}})
    assert hidden_tools({"volumes": [{"containerDisk": {"image": "a.io/fedora:41"}}]},
                        cluster) == ("fio",)
    assert hidden_tools({"volumes": [{"containerDisk": {"image": "a.io/fedora-fio:41"}}]},
                        cluster) == ()
    assert hidden_tools({"volumes": []}, cluster) == ("fio",)


def test_guest_overlays_never_cover_the_lab_state() -> None:
    from pathlib import Path

    from suite.lab.compute.getty import hides_lab
    config = {"protect": "/tmp/kvs-lab-x"}
    assert hides_lab(Path("/tmp"), config) and hides_lab(Path("/tmp/kvs-lab-x"), config)
    assert not hides_lab(Path("/usr/local/bin"), config)
