"""A VirtualMachineSnapshot of a running VM and a VirtualMachineRestore of the stopped
VM bring back the bytes of snapshot time; volumes without a VolumeSnapshotClass are
excluded and reported. The process guest has an agent: the snapshot freezes it (the VMI
shows fsFreezeStatus "frozen") and thaws it, and a frozen guest's processes do not run
until the thaw."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes import watch
from kvhelpers import (
    Console,
    blank_dv,
    cloud_init,
    create_vm,
    get_vm,
    get_vmi,
    vm_action,
    vm_manifest,
    wait_for,
    wait_printable,
)

from suite.lab.compute.agent import FsFreezer

SNAP = ("snapshot.kubevirt.io", "v1beta1")
DISK = "$PROBE_DEV_ROOT/dev/disk/by-id/virtio-keep-data"


def _write(console: Console, text: str) -> None:
    status, out = console.run(f"printf '{text}' | dd of={DISK} conv=notrunc,fsync "
                              f"2>/dev/null; head -c {len(text)} {DISK}")
    assert (status, out) == (0, text)


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"apiGroup": "kubevirt.io", "kind": kind, "name": name}


def _freeze_statuses(kv: Any, ns: str, name: str) -> tuple[watch.Watch, list[Any]]:
    """Every fsFreezeStatus the VMI takes from now on (a watch misses no update)."""
    rv = kv.list_namespaced_custom_object("kubevirt.io", "v1", ns,
                                          "virtualmachineinstances")["metadata"]["resourceVersion"]
    watcher, seen = watch.Watch(), []

    def follow() -> None:
        for event in watcher.stream(kv.list_namespaced_custom_object, "kubevirt.io", "v1", ns,
                                    "virtualmachineinstances", resource_version=rv,
                                    timeout_seconds=60):
            if event["object"]["metadata"]["name"] == name:
                seen.append(event["object"].get("status", {}).get("fsFreezeStatus"))
    threading.Thread(target=follow, daemon=True).start()
    return watcher, seen


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
    watcher, freezes = _freeze_statuses(kv, ns, "keep")
    time.sleep(0.5)  # the watch is open
    kv.create_namespaced_custom_object(*SNAP, ns, "virtualmachinesnapshots", {
        "apiVersion": "snapshot.kubevirt.io/v1beta1", "kind": "VirtualMachineSnapshot",
        "metadata": {"name": "keep-snap"}, "spec": {"source": _ref("VirtualMachine", "keep")}})
    snap = wait_for(lambda: kv.get_namespaced_custom_object(
        *SNAP, ns, "virtualmachinesnapshots", "keep-snap"),
        lambda s: s.get("status", {}).get("readyToUse"), "the snapshot", 30)
    assert snap["status"]["phase"] == "Succeeded"
    assert snap["status"]["indications"] == ["GuestAgent", "Online"]
    assert [i["indication"] for i in snap["status"]["sourceIndications"]] == [
        "GuestAgent", "Online"]
    wait_for(lambda: list(freezes), lambda seen: "frozen" in seen and seen[-1] is None,
             "the guest frozen, then thawed", 10)
    watcher.stop()
    assert "fsFreezeStatus" not in get_vmi(kv, ns, "keep")["status"]
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


COUNTER = """
import os, sys, time
n = 0
while True:
    n += 1
    with open(sys.argv[1] + ".new", "w") as f:
        f.write(str(n))
    os.replace(sys.argv[1] + ".new", sys.argv[1])
    time.sleep(0.01)
"""


def _count(path: Path) -> int:
    for _ in range(500):
        if path.exists():
            return int(path.read_text())
        time.sleep(0.01)
    raise AssertionError("the counter never wrote")


@pytest.mark.slow
def test_freeze_stops_the_guest_until_thaw_and_thaws_itself(tmp_path: Path) -> None:
    """The agent's freeze holds every process of the guest's session (a real process
    counting) until the thaw; a freeze nobody thaws ends at its limit."""
    counter = tmp_path / "n"
    proc = subprocess.Popen([sys.executable, "-c", COUNTER, str(counter)],
                            start_new_session=True)
    (tmp_path / "dev/disk/by-id").mkdir(parents=True)
    os.symlink(counter, tmp_path / "dev/disk/by-id/virtio-x")
    guest = SimpleNamespace(process=proc, alive=True, dev_root=tmp_path)
    compute = SimpleNamespace(guests={"uid-1": guest, "uid-2": SimpleNamespace(
        guest_agent=False, alive=True, process=proc, dev_root=tmp_path)})

    async def scenario() -> None:
        _count(counter)  # it runs
        freezer = FsFreezer(compute, limit_s=1.0)  # type: ignore[arg-type]
        assert await freezer.freeze("uid-2") is False  # no agent: nothing to freeze
        assert await freezer.freeze("uid-1") is True
        await asyncio.sleep(0.1)
        held = _count(counter)
        await asyncio.sleep(0.4)
        assert _count(counter) == held  # frozen: not one more write
        freezer.thaw("uid-1")
        await asyncio.sleep(0.4)
        assert _count(counter) > held
        assert await freezer.freeze("uid-1") is True
        await asyncio.sleep(0.1)
        held = _count(counter)
        await asyncio.sleep(1.5)  # past the limit: thawed by itself
        assert _count(counter) > held and "uid-1" not in freezer.frozen
    try:
        asyncio.run(scenario())
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("conditions, phase, expected", [
    ([{"type": "AgentConnected", "status": "True"}], "Running", ["GuestAgent", "Online"]),
    ([], "Running", ["NoGuestAgent", "Online"]),
    ([{"type": "Paused", "status": "True"}, {"type": "AgentConnected", "status": "True"}],
     "Running", ["Online", "Paused"]),
    ([], "Scheduling", ["NoGuestAgent", "Online"]),  # a VMI exists: online
    (None, "", []),  # no VMI: offline
])
def test_source_indications_follow_kubevirt(conditions: list[Any] | None, phase: str,
                                            expected: list[str]) -> None:
    from suite.lab.compute.vmsnapshot import source_indications
    vmi = None if conditions is None else {"status": {"phase": phase,
                                                      "conditions": conditions}}
    assert source_indications(vmi) == expected
