"""kubectl against the lab over HTTPS, the way a person uses it on a cluster."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import pytest
import yaml
from kubernetes import client


class Kubectl(Protocol):
    """The `kubectl` fixture of tests/conftest.py, as these tests use it."""

    def __call__(self, *args: str, stdin: str | None = None, check: bool = True,
                 kubeconfig: Path | None = None,
                 timeout: float = 30) -> subprocess.CompletedProcess[str]: ...

    def command(self, *args: str, kubeconfig: Path | None = None) -> list[str]: ...


@pytest.fixture(scope="module")
def ns(kubectl: Kubectl, unique_name: Callable[[str], str]) -> str:
    name = unique_name("kubectl")
    kubectl("create", "namespace", name)
    return name


def _vm(name: str, strategy: str = "Halted", **extra: object) -> str:
    return yaml.safe_dump({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                           "metadata": {"name": name, **extra},
                           "spec": {"runStrategy": strategy,
                                    "template": {"spec": {"domain": {"devices": {}}}}}})


def test_apply_creates_then_updates(kubectl: Kubectl, ns: str) -> None:
    manifest = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "applied", "labels": {"v": "1"}}, "data": {"a": "1"}}
    out = kubectl("apply", "-n", ns, "-f", "-", stdin=json.dumps(manifest))
    assert "configmap/applied created" in out.stdout
    manifest["data"] = {"b": "2"}
    out = kubectl("apply", "-n", ns, "-f", "-", stdin=json.dumps(manifest))
    assert "configmap/applied configured" in out.stdout
    got = json.loads(kubectl("get", "cm", "applied", "-n", ns,
                             "-o", "json").stdout)
    assert got["data"] == {"b": "2"}  # apply's 3-way patch removed "a"


def test_apply_custom_resource_twice(kubectl: Kubectl, ns: str) -> None:
    out = kubectl("apply", "-n", ns, "-f", "-", stdin=_vm("vm-apply"))
    assert "virtualmachine.kubevirt.io/vm-apply created" in out.stdout
    labelled = _vm("vm-apply", labels={"team": "storage"})
    out = kubectl("apply", "-n", ns, "-f", "-", stdin=labelled)
    assert "configured" in out.stdout
    got = kubectl("get", "vm", "vm-apply", "-n", ns, "-o",
                  "jsonpath={.metadata.labels.team}").stdout
    assert got == "storage"


def test_unknown_field_is_refused_with_its_path(kubectl: Kubectl, ns: str) -> None:
    bad = _vm("vm-typo").replace("runStrategy:", "runStrategi:")
    result = kubectl("apply", "-n", ns, "-f", "-", stdin=bad, check=False)
    assert result.returncode != 0
    assert 'strict decoding error: unknown field "spec.runStrategi"' in result.stderr


def test_wrong_type_is_invalid_with_its_path(kubectl: Kubectl, ns: str) -> None:
    bad = _vm("vm-type").replace("runStrategy: Halted", "running: 'yes'")
    result = kubectl("apply", "-n", ns, "-f", "-", stdin=bad, check=False)
    assert result.returncode != 0
    assert "spec.running: Invalid value" in result.stderr
    assert "must be of type boolean" in result.stderr


def test_patch_all_three_types(kubectl: Kubectl, ns: str) -> None:
    kubectl("create", "serviceaccount", "sa1", "-n", ns)
    kubectl("patch", "sa", "sa1", "-n", ns, "-p",
            '{"secrets":[{"name":"one"}]}')
    kubectl("patch", "sa", "sa1", "-n", ns, "--type=strategic", "-p",
            '{"secrets":[{"name":"two"}]}')
    kubectl("patch", "sa", "sa1", "-n", ns, "--type=merge", "-p",
            '{"metadata":{"labels":{"m":"yes"}}}')
    kubectl("patch", "sa", "sa1", "-n", ns, "--type=json", "-p",
            '[{"op":"add","path":"/metadata/annotations","value":{"j":"yes"}}]')
    got = json.loads(kubectl("get", "sa", "sa1", "-n", ns, "-o",
                             "json").stdout)
    assert [s["name"] for s in got["secrets"]] == ["one", "two"]  # merged by key "name"
    assert got["metadata"]["labels"] == {"m": "yes"}
    assert got["metadata"]["annotations"] == {"j": "yes"}


def test_strategic_patch_is_refused_for_custom_resources(kubectl: Kubectl,
                                                         ns: str) -> None:
    kubectl("apply", "-n", ns, "-f", "-", stdin=_vm("vm-smp"))
    result = kubectl("patch", "vm", "vm-smp", "-n", ns, "--type=strategic",
                     "-p", '{"spec":{"runStrategy":"Manual"}}', check=False)
    assert result.returncode != 0
    assert "UnsupportedMediaType" in result.stderr or "unknown format" in result.stderr


def test_get_all_namespaces_yaml_by_label(kubectl: Kubectl, ns: str) -> None:
    for name, tier in (("lbl-a", "web"), ("lbl-b", "db")):
        kubectl("create", "configmap", name, "-n", ns)
        kubectl("label", "configmap", name, "-n", ns, f"tier={tier}")
    out = kubectl("get", "cm", "-A", "-o", "yaml", "-l",
                  "tier=web,kubernetes.io/metadata.name!=x").stdout
    names = [(i["metadata"]["namespace"], i["metadata"]["name"])
             for i in yaml.safe_load(out)["items"]]
    assert (ns, "lbl-a") in names and (ns, "lbl-b") not in names


def test_get_every_served_resource(kubectl: Kubectl) -> None:
    kinds = ("ns,nodes,pods,pvc,pv,events,secrets,cm,sa,sc,csidrivers,csinodes,"
             "volumeattachments,vs,vsc,vsclass,vm,vmi,vmim,kubevirts,dv,storageprofiles,cdi,"
             "vmsnapshot,vmsnapshotcontent,vmrestore,hco,crd")
    result = kubectl("get", kinds, "-A", check=False)
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr.lower()


def test_api_resources_lists_kubevirt(kubectl: Kubectl) -> None:
    out = kubectl("api-resources", "-o", "wide").stdout
    vm_line = next(line for line in out.splitlines() if line.startswith("virtualmachines "))
    assert "vm,vms" in vm_line and "kubevirt.io/v1" in vm_line and "VirtualMachine" in vm_line
    assert "datavolumes" in out and "volumesnapshots" in out and "hyperconvergeds" in out


def test_explain_uses_the_real_schema(kubectl: Kubectl) -> None:
    out = kubectl("explain", "datavolume.spec.source").stdout
    assert "http" in out and "registry" in out and "pvc" in out
    out = kubectl("explain", "pvc.spec").stdout
    assert "storageClassName" in out and "volumeMode" in out


def test_delete_cascade_foreground(kubectl: Kubectl, ns: str,
                                   api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    owner = core.create_namespaced_config_map(ns, {"metadata": {"name": "owner"}})
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
           "uid": owner.metadata.uid, "blockOwnerDeletion": True}
    core.create_namespaced_config_map(ns, {"metadata": {"name": "dep", "ownerReferences": [
        ref], "finalizers": ["lab.test/hold"]}})
    deleting = threading.Thread(target=kubectl, args=(
        "delete", "cm", "owner", "-n", ns, "--cascade=foreground"))
    deleting.start()
    deleting.join(1.0)
    held = core.read_namespaced_config_map("owner", ns)
    assert "foregroundDeletion" in held.metadata.finalizers  # waits for its dependent
    assert core.read_namespaced_config_map("dep", ns).metadata.deletion_timestamp
    core.patch_namespaced_config_map("dep", ns, {"metadata": {"finalizers": None}})
    deleting.join(30)
    assert not deleting.is_alive()
    names = [i.metadata.name for i in core.list_namespaced_config_map(ns).items]
    assert "owner" not in names and "dep" not in names


def test_wait_for_a_condition_set_through_status(kubectl: Kubectl,
                                                 unique_name: Callable[[str], str],
                                                 api_client: client.ApiClient) -> None:
    name = unique_name("waitns")
    core = client.CoreV1Api(api_client)
    core.create_namespace({"metadata": {"name": name}})
    waiting = subprocess.Popen(
        kubectl.command("wait", f"namespace/{name}",
                        "--for=condition=LabReady", "--timeout=30s"),
        stdout=subprocess.PIPE, text=True)
    core.patch_namespace_status(name, {"status": {"conditions": [
        {"type": "LabReady", "status": "True", "reason": "Test", "message": "set by test"}]}})
    out, _ = waiting.communicate(timeout=40)
    assert waiting.returncode == 0 and "condition met" in out


def test_get_watch_sees_a_change(kubectl: Kubectl, ns: str,
                                 api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespaced_secret(ns, {"metadata": {"name": "watched-1"}})
    watching = subprocess.Popen(
        kubectl.command("get", "secrets", "-n", ns, "--watch", "-o", "name"),
        stdout=subprocess.PIPE, text=True)
    try:
        assert watching.stdout is not None
        assert watching.stdout.readline().strip() == "secret/watched-1"
        core.create_namespaced_secret(ns, {"metadata": {"name": "watched-2"}})
        assert watching.stdout.readline().strip() == "secret/watched-2"
    finally:
        watching.terminate()
        watching.wait(10)


def test_get_prints_server_side_columns(kubectl: Kubectl, ns: str) -> None:
    kubectl("apply", "-n", ns, "-f", "-", stdin=_vm("vm-cols"))
    header = kubectl("get", "vm", "-n", ns).stdout.splitlines()[0].split()
    assert header == ["NAME", "AGE", "STATUS", "READY"]
    header = kubectl("get", "ns").stdout.splitlines()[0].split()
    assert header == ["NAME", "STATUS", "AGE"]


def test_replace_with_a_stale_version_is_a_conflict(kubectl: Kubectl, ns: str) -> None:
    kubectl("create", "configmap", "stale", "-n", ns, "--from-literal=a=1")
    old = kubectl("get", "cm", "stale", "-n", ns, "-o", "json").stdout
    kubectl("patch", "cm", "stale", "-n", ns, "-p", '{"data":{"a":"2"}}')
    result = kubectl("replace", "-f", "-", stdin=old, check=False)
    assert result.returncode != 0
    assert "the object has been modified" in result.stderr


def test_namespace_shows_terminating(kubectl: Kubectl,
                                     unique_name: Callable[[str], str]) -> None:
    name = unique_name("term")
    kubectl("create", "namespace", name)
    kubectl("create", "configmap", "held", "-n", name)
    kubectl("patch", "cm", "held", "-n", name, "--type=merge", "-p",
            '{"metadata":{"finalizers":["lab.test/hold"]}}')
    kubectl("delete", "namespace", name, "--wait=false")
    phase = kubectl("get", "ns", name, "-o", "jsonpath={.status.phase}")
    assert phase.stdout == "Terminating"
    kubectl("patch", "cm", "held", "-n", name, "--type=json", "-p",
            '[{"op":"remove","path":"/metadata/finalizers"}]')
    gone = kubectl("get", "ns", name, check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr


def test_a_wrong_token_is_unauthorized(kubectl: Kubectl, kubeconfig_path: Path,
                                       tmp_path: Path) -> None:
    config = yaml.safe_load(kubeconfig_path.read_text())
    config["users"][0]["user"]["token"] = "not-the-token"
    wrong = tmp_path / "kubeconfig"
    wrong.write_text(yaml.safe_dump(config))
    result = kubectl("get", "ns", kubeconfig=wrong, check=False)
    assert result.returncode != 0
    assert "You must be logged in to the server" in result.stderr
