"""VirtualMachineExport of a stopped VM as backup tools use it: the virt-export Service,
the generated token Secret, status.links with raw and gzip URLs, an HTTPS download that
needs the x-kubevirt-export-token header and returns the disk's bytes; a running VM keeps
the export Pending (InUse); the VMExport gate off is the webhook's refusal; the
`export-serves-stale-data` fault serves the disk as created."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import ssl
import urllib.error
import urllib.request
from typing import Any

import kubernetes
import pytest
from kvhelpers import (
    Console,
    blank_dv,
    cloud_init,
    create_vm,
    vm_action,
    vm_manifest,
    wait_for,
    wait_printable,
)

EXPORT = ("export.kubevirt.io", "v1beta1")
PATTERN = b"kvs-export-check" * 4096  # 64 KiB the guest writes at offset 0


def _export(kv: Any, ns: str, name: str, vm: str) -> None:
    kv.create_namespaced_custom_object(*EXPORT, ns, "virtualmachineexports", {
        "apiVersion": "export.kubevirt.io/v1beta1", "kind": "VirtualMachineExport",
        "metadata": {"name": name},
        "spec": {"source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": vm}}})


def _get(kv: Any, ns: str, name: str) -> dict[str, Any]:
    return kv.get_namespaced_custom_object(*EXPORT, ns, "virtualmachineexports", name)


def _fetch(url: str, ca: str, token: str | None) -> tuple[int, bytes]:
    context = ssl.create_default_context(cadata=ca)
    request = urllib.request.Request(url, headers={"x-kubevirt-export-token": token}
                                     if token else {})
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def _write_and_stop(api_client: Any, kv: Any, ns: str, vm: str, serial: str) -> None:
    wait_printable(kv, ns, vm, "Running", 60)
    console = Console(api_client, ns, vm)
    console.login("fedora", "pw")
    status, _ = console.run(f"yes kvs-export-check | tr -d '\\n' | head -c {len(PATTERN)} | "
                            f"dd of=$PROBE_DEV_ROOT/dev/disk/by-id/virtio-{serial} "
                            "conv=notrunc,fsync 2>/dev/null")
    assert status == 0
    console.close()
    assert vm_action(api_client, ns, vm, "stop") == 202
    wait_printable(kv, ns, vm, "Stopped", 60)


def _links(exported: dict[str, Any]) -> dict[str, str]:
    volume = exported["status"]["links"]["external"]["volumes"][0]
    return {f["format"]: f["url"] for f in volume["formats"]}


@pytest.mark.slow
def test_export_of_a_stopped_vm_downloads_raw_and_gzip(api_client: Any, core: Any, kv: Any,
                                                       ns: str) -> None:
    create_vm(kv, ns, vm_manifest("exp", user_data=cloud_init("pw"), data_volumes=[
        blank_dv("exp-data", "lab-ceph-rbd", size="64Mi")]))
    wait_printable(kv, ns, "exp", "Running", 60)
    _export(kv, ns, "early", "exp")
    pending = wait_for(lambda: _get(kv, ns, "early"),
                       lambda e: any(c.get("reason") == "InUse" for c in
                                     (e.get("status") or {}).get("conditions") or []),
                       "the export to wait for the running VM")
    assert pending["status"]["phase"] == "Pending"
    ready = next(c for c in pending["status"]["conditions"] if c["type"] == "Ready")
    assert ready["message"] == f"Virtual Machine {ns}/exp is running"
    _write_and_stop(api_client, kv, ns, "exp", "exp-data")

    exported = wait_for(lambda: _get(kv, ns, "early"),
                        lambda e: (e.get("status") or {}).get("phase") == "Ready",
                        "the export to be Ready", 30)
    assert core.read_namespaced_service("virt-export-early", ns).spec.ports[0].port == 443
    secret = core.read_namespaced_secret(exported["status"]["tokenSecretRef"], ns)
    token = base64.b64decode(secret.data["token"]).decode()
    assert len(token) == 20
    links, ca = _links(exported), exported["status"]["links"]["external"]["cert"]
    assert links["raw"].endswith("/volumes/exp-data/disk.img")
    assert _fetch(links["raw"], ca, None)[0] == 401
    assert _fetch(links["raw"], ca, "wrong-token")[0] == 401
    code, raw = _fetch(links["raw"], ca, token)
    assert code == 200 and len(raw) == 64 << 20 and raw[:len(PATTERN)] == PATTERN
    code, packed = _fetch(links["gzip"], ca, token)
    assert code == 200
    assert hashlib.sha256(gzip.decompress(packed)).digest() == hashlib.sha256(raw).digest()


DRIVERS = """
drivers:
- name: stale
  provisioner: stale.csi.lab.io
  modes: {Block: [ReadWriteOnce]}
  faults: [export-serves-stale-data]
cluster:
  featureGates: [HotplugVolumes]
"""


@pytest.mark.slow
def test_gate_off_is_refused_and_fault_serves_the_disk_as_created(lab_factory: Any) -> None:
    lab = lab_factory(DRIVERS)
    client = kubernetes.config.new_client_from_config(config_file=str(lab.kubeconfig_path))
    kv = kubernetes.client.CustomObjectsApi(client)
    with pytest.raises(kubernetes.client.ApiException) as refused:
        _export(kv, "default", "nope", "whatever")
    assert refused.value.status == 400
    assert json.loads(refused.value.body)["message"] == \
        'admission webhook "virtualmachineexport-validator.export.kubevirt.io" denied ' \
        "the request: vm export feature gate not enabled"

    lab = lab_factory(DRIVERS.replace("[HotplugVolumes]", "[HotplugVolumes, VMExport]"))
    other = kubernetes.config.new_client_from_config(config_file=str(lab.kubeconfig_path))
    kv, core = kubernetes.client.CustomObjectsApi(other), kubernetes.client.CoreV1Api(other)
    create_vm(kv, "default", vm_manifest("old", user_data=cloud_init("pw"), data_volumes=[
        blank_dv("old-data", "stale", size="64Mi")]))
    _write_and_stop(other, kv, "default", "old", "old-data")
    _export(kv, "default", "old", "old")
    exported = wait_for(lambda: _get(kv, "default", "old"),
                        lambda e: (e.get("status") or {}).get("phase") == "Ready", "Ready", 30)
    secret = core.read_namespaced_secret(exported["status"]["tokenSecretRef"], "default")
    token = base64.b64decode(secret.data["token"]).decode()
    code, raw = _fetch(_links(exported)["raw"], exported["status"]["links"]["external"]["cert"],
                       token)
    assert code == 200 and len(raw) == 64 << 20 and raw[:len(PATTERN)] == bytes(len(PATTERN))
    client.close()
    other.close()
