"""A VirtualMachineSnapshot of a running VM and a VirtualMachineRestore of the stopped
VM bring back the bytes of snapshot time; volumes without a VolumeSnapshotClass are
excluded and reported."""

from __future__ import annotations

from typing import Any

import pytest
from kvhelpers import (
    Console,
    blank_dv,
    cloud_init,
    create_vm,
    get_vm,
    vm_action,
    vm_manifest,
    wait_for,
    wait_printable,
)

SNAP = ("snapshot.kubevirt.io", "v1beta1")
DISK = "$PROBE_DEV_ROOT/dev/disk/by-id/virtio-keep-data"


def _write(console: Console, text: str) -> None:
    status, out = console.run(f"printf '{text}' | dd of={DISK} conv=notrunc,fsync "
                              f"2>/dev/null; head -c {len(text)} {DISK}")
    assert (status, out) == (0, text)


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"apiGroup": "kubevirt.io", "kind": kind, "name": name}


@pytest.mark.slow
def test_snapshot_and_restore_bring_back_snapshot_time_bytes(api_client: Any, kv: Any,
                                                              ns: str) -> None:
    create_vm(kv, ns, vm_manifest("keep", user_data=cloud_init("pw"), data_volumes=[
        blank_dv("keep-data", "lab-ceph-rbd"),
        blank_dv("keep-nfs", "lab-nfs", volume_mode="Filesystem", access="ReadWriteMany")]))
    wait_printable(kv, ns, "keep", "Running")
    statuses = {s["name"]: s for s in get_vm(kv, ns, "keep")["status"]["volumeSnapshotStatuses"]}
    assert statuses["keep-data"]["enabled"] is True
    assert statuses["keep-nfs"]["reason"].startswith("No VolumeSnapshotClass")
    console = Console(api_client, ns, "keep")
    console.login("fedora", "pw")
    _write(console, "SNAPSHOT-TIME-BYTES")
    kv.create_namespaced_custom_object(*SNAP, ns, "virtualmachinesnapshots", {
        "apiVersion": "snapshot.kubevirt.io/v1beta1", "kind": "VirtualMachineSnapshot",
        "metadata": {"name": "keep-snap"}, "spec": {"source": _ref("VirtualMachine", "keep")}})
    snap = wait_for(lambda: kv.get_namespaced_custom_object(
        *SNAP, ns, "virtualmachinesnapshots", "keep-snap"),
        lambda s: s.get("status", {}).get("readyToUse"), "the snapshot", 30)
    assert snap["status"]["phase"] == "Succeeded"
    assert snap["status"]["indications"] == ["GuestAgent", "Online"]
    assert snap["status"]["snapshotVolumes"]["includedVolumes"] == ["keep-data"]
    assert "keep-nfs" in snap["status"]["snapshotVolumes"]["excludedVolumes"]
    assert "snapshotInProgress" not in get_vm(kv, ns, "keep")["status"]
    _write(console, "LATER-OVERWRITTEN!!")
    console.close()
    assert vm_action(api_client, ns, "keep", "stop") == 202
    wait_printable(kv, ns, "keep", "Stopped")
    kv.create_namespaced_custom_object(*SNAP, ns, "virtualmachinerestores", {
        "apiVersion": "snapshot.kubevirt.io/v1beta1", "kind": "VirtualMachineRestore",
        "metadata": {"name": "keep-restore"},
        "spec": {"target": _ref("VirtualMachine", "keep"),
                 "virtualMachineSnapshotName": "keep-snap"}})
    restore = wait_for(lambda: kv.get_namespaced_custom_object(
        *SNAP, ns, "virtualmachinerestores", "keep-restore"),
        lambda r: r.get("status", {}).get("complete"), "the restore", 30)
    claim = restore["status"]["restores"][0]["persistentVolumeClaim"]
    assert claim == f"restore-{restore['metadata']['uid']}-keep-data"
    assert vm_action(api_client, ns, "keep", "start") == 202
    wait_printable(kv, ns, "keep", "Running")
    console = Console(api_client, ns, "keep")
    console.login("fedora", "pw")
    assert console.run(f"head -c 19 {DISK}") == (0, "SNAPSHOT-TIME-BYTES")
    console.close()
    kv.delete_namespaced_custom_object(*SNAP, ns, "virtualmachinesnapshots", "keep-snap")
    contents = snap["status"]["virtualMachineSnapshotContentName"]
    wait_for(lambda: [c["metadata"]["name"] for c in kv.list_namespaced_custom_object(
        *SNAP, ns, "virtualmachinesnapshotcontents")["items"]],
        lambda names: contents not in names, "the content to go")
    wait_for(lambda: kv.list_namespaced_custom_object(
        "snapshot.storage.k8s.io", "v1", ns, "volumesnapshots")["items"],
        lambda items: not items, "the VolumeSnapshots to go")
