"""Every object the suite creates, built by the suite's own builders, passes the strict
lab: no admission refusal and no `Warning` header (a dropped unknown field would be one).

The objects are the ones `suite/` sends: the run's namespace (session.py), the cloud-init
Secret (vm/userdata.py), VMs with blank, cloned and existing-claim disks, a standalone
clone DataVolume, a VolumeSnapshot and a claim restored from it, a VM snapshot and
restore (vm/manifests.py via vm/guestvm.py, checks/clone.py, vm/snapshots.py), a
migration (checks/migration.py), the node-check pod (vm/nodecheck.py), and the
expansion patch (checks/expand.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import kubernetes
import pytest
from admhelpers import wait_until

from suite.config.profile import load_profile
from suite.session import namespace_labels
from suite.vm import manifests as m
from suite.vm import userdata

PATHS = {  # (apiVersion, kind) -> collection path under the namespace
    ("v1", "Secret"): "/api/v1/namespaces/{ns}/secrets",
    ("v1", "PersistentVolumeClaim"): "/api/v1/namespaces/{ns}/persistentvolumeclaims",
    ("v1", "Pod"): "/api/v1/namespaces/{ns}/pods",
    ("kubevirt.io/v1", "VirtualMachine"): "/apis/kubevirt.io/v1/namespaces/{ns}/virtualmachines",
    ("kubevirt.io/v1", "VirtualMachineInstanceMigration"):
        "/apis/kubevirt.io/v1/namespaces/{ns}/virtualmachineinstancemigrations",
    (m.CDI_API, "DataVolume"): f"/apis/{m.CDI_API}/namespaces/{{ns}}/datavolumes",
    (m.SNAPSHOT_API, "VolumeSnapshot"): f"/apis/{m.SNAPSHOT_API}/namespaces/{{ns}}/volumesnapshots",
    (m.VM_SNAPSHOT_API, "VirtualMachineSnapshot"):
        f"/apis/{m.VM_SNAPSHOT_API}/namespaces/{{ns}}/virtualmachinesnapshots",
    (m.VM_SNAPSHOT_API, "VirtualMachineRestore"):
        f"/apis/{m.VM_SNAPSHOT_API}/namespaces/{{ns}}/virtualmachinerestores",
}
CLASS = "lab-ceph-rbd"  # Block RWX, snapshots, online expansion: every object applies
SNAPSHOT_CLASS = f"{CLASS}-snapclass"


class Sender:
    """POSTs/PATCHes raw bodies and fails on any refusal or Warning header."""

    def __init__(self, api_client: kubernetes.client.ApiClient) -> None:
        self.api_client = api_client

    def _call(self, method: str, path: str, body: Any, query: list[tuple[str, str]],
              content_type: str = "application/json") -> dict[str, Any]:
        try:
            data, _status, headers = self.api_client.call_api(
                path, method, body=body, query_params=query, auth_settings=["BearerToken"],
                header_params={"Content-Type": content_type, "Accept": "application/json"},
                response_type="object", _return_http_data_only=False)
        except kubernetes.client.ApiException as refused:
            pytest.fail(f"{method} {path} refused: {refused.status} {refused.body}")
        assert "Warning" not in headers, f"{method} {path} warned: {headers['Warning']}"
        return dict(data)

    def create(self, obj: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
        meta = obj["metadata"]
        path = PATHS[(obj["apiVersion"], obj["kind"])].format(ns=meta["namespace"])
        return self._call("POST", path, obj, [("dryRun", "All")] if dry_run else [])

    def patch(self, path: str, patch: dict[str, Any]) -> dict[str, Any]:
        return self._call("PATCH", path, patch, [], "application/merge-patch+json")


@pytest.fixture(scope="module")
def run_ns(api_client: kubernetes.client.ApiClient) -> Iterator[str]:
    """The run's namespace, as the session builds it (with its PodSecurity labels)."""
    name = f"kvs-{uuid.uuid4().hex[:8]}"
    profile = load_profile("quick")
    labels = namespace_labels(SimpleNamespace(profile=profile))  # type: ignore[arg-type]
    body = {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {**labels, "kvstorage.io/run-id": name}}}
    Sender(api_client)._call("POST", "/api/v1/namespaces", body, [])
    yield name
    kubernetes.client.CoreV1Api(api_client).delete_namespace(name)


def _guest() -> m.GuestSpec:
    guest = load_profile("quick").guest
    return m.GuestSpec(guest.image, guest.user, guest.password, guest.memory, guest.cpu_cores,
                       tuple(guest.packages))


def _vmi_exists(api_client: Any, ns: str, name: str) -> dict[str, Any]:
    custom = kubernetes.client.CustomObjectsApi(api_client)
    return wait_until(lambda: next(iter(custom.list_namespaced_custom_object(
        "kubevirt.io", "v1", ns, "virtualmachineinstances",
        field_selector=f"metadata.name={name}")["items"]), None),
        lambda vmi: vmi is not None, f"VMI {name}")


def _bound(api_client: Any, ns: str, claim: str) -> None:
    """Wait for the claim CDI makes for a DataVolume (it appears a moment after the VM)."""
    core = kubernetes.client.CoreV1Api(api_client)

    def phase() -> str:
        try:
            pvc = core.read_namespaced_persistent_volume_claim(claim, ns)
        except kubernetes.client.ApiException as error:
            if error.status == 404:
                return "absent"
            raise
        return str((pvc.status.phase if pvc.status else None) or "")

    wait_until(phase, lambda p: p == "Bound", f"claim {claim} bound", timeout_s=90)


@pytest.mark.slow
def test_the_suites_objects_pass_admission(api_client: Any, run_ns: str) -> None:
    send, ns, guest = Sender(api_client), run_ns, _guest()
    secret = userdata.secret("init-secret", ns, guest)
    send.create(secret)
    blank = m.DataDisk(name="vm1-data", serial="data", storage_class=CLASS,
                       volume_mode="Block", access_mode="ReadWriteMany", size_bytes=64 << 20)
    send.create(m.virtual_machine("vm1", ns, guest, [blank], user_data_secret="init-secret"))
    _bound(api_client, ns, blank.claim_name)
    clone = m.DataDisk(name="vm2-clone", serial="clone", storage_class=CLASS,
                       volume_mode="Block", size_bytes=64 << 20, clone_from=blank.claim_name)
    send.create(m.virtual_machine("vm2", ns, guest, [clone], user_data_secret="init-secret",
                                  running=False))
    send.create(m.datavolume(m.DataDisk(name="dv-clone", serial="c", storage_class=CLASS,
                                        volume_mode="Block", size_bytes=64 << 20,
                                        clone_from=blank.claim_name), ns))
    assert _snapclass_exists(api_client, SNAPSHOT_CLASS)
    send.create(m.volume_snapshot("snap1", ns, blank.claim_name, SNAPSHOT_CLASS))
    restored = m.DataDisk(name="restored", serial="r", storage_class=CLASS,
                          volume_mode="Block", claim="restored")
    send.create(m.pvc_from_snapshot("restored", ns, "snap1", restored, "64Mi"))
    send.create(m.virtual_machine("vm3", ns, guest, [restored], user_data_secret="init-secret",
                                  running=False))
    send.create(m.vm_snapshot("vmsnap1", ns, "vm2"))
    send.create(m.vm_restore("vmrestore1", ns, "vm2", "vmsnap1"))
    _vmi_exists(api_client, ns, "vm1")
    send.create(m.migration("mig1", ns, "vm1"))
    send.create(m.node_pod("node-check", ns, "lab-node-1", load_profile("quick").node_checks
                           .image, "true"), dry_run=True)
    send.patch(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/{blank.claim_name}",
               {"spec": {"resources": {"requests": {"storage": str(96 << 20)}}}})


def _snapclass_exists(api_client: Any, name: str) -> bool:
    custom = kubernetes.client.CustomObjectsApi(api_client)
    items = custom.list_cluster_custom_object("snapshot.storage.k8s.io", "v1",
                                              "volumesnapshotclasses")["items"]
    return any(i["metadata"]["name"] == name for i in items)


def test_sender_reports_warnings(api_client: Any, run_ns: str) -> None:
    """The check above can fail: an unknown field comes back as a Warning header."""
    bad = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "warned",
                                                              "namespace": run_ns},
           "stringData": {"a": "b"}, "bogusField": 1}
    with pytest.raises(AssertionError, match="warned"):
        Sender(api_client).create(bad, dry_run=True)
    assert json.dumps(bad)  # the body was sent as JSON
