"""Snapshots: a restore holds the bytes written before the snapshot and not those written
after it (same size and larger); a driver without a VolumeSnapshotClass never gets a
ready snapshot and says why; deleting the snapshot removes its content."""

from __future__ import annotations

import pytest
from storagehelpers import (
    MIB,
    SNAP,
    Api,
    export_of,
    read_at,
    ready_snapshot,
    restore,
    snapshot,
    wait_bound,
    wait_event,
    wait_for,
    write_at,
)

from suite.lab.lab import Lab

BEFORE, AFTER = b"written-before-the-snapshot" * 8, b"written-after-the-snapshot!" * 8


@pytest.mark.parametrize(("sc", "mode"), [("lab-ceph-rbd", "Block"), ("lab-slow", "Filesystem")])
@pytest.mark.slow
def test_restore_holds_bytes_from_snapshot_time(lab: Lab, api: Api, ns: str, sc: str,
                                                mode: str) -> None:
    src = f"{sc}-{mode}".lower()
    api.create_pvc(ns, src, sc, mode, ["ReadWriteOnce"])
    wait_bound(api, ns, src)
    write_at(export_of(lab, api, ns, src), MIB, BEFORE)
    snapshot(api, ns, f"{src}-snap", src)
    vs = ready_snapshot(api, ns, f"{src}-snap")
    write_at(export_of(lab, api, ns, src), MIB, AFTER)
    content = api.custom_get(SNAP, "volumesnapshotcontents",
                             vs["status"]["boundVolumeSnapshotContentName"])
    assert content["status"]["restoreSize"] == 64 * MIB
    assert isinstance(content["status"]["creationTime"], int)
    assert content["spec"]["volumeSnapshotRef"]["uid"] == vs["metadata"]["uid"]
    assert vs["status"]["restoreSize"] == "64Mi"
    for restored, size in ((f"{src}-same", "64Mi"), (f"{src}-larger", "96Mi")):
        restore(api, ns, restored, sc, mode, f"{src}-snap", size)
        wait_bound(api, ns, restored)
        assert read_at(export_of(lab, api, ns, restored), MIB, len(BEFORE)) == BEFORE
    assert api.pvc(ns, f"{src}-larger")["status"]["capacity"]["storage"] == "96Mi"


def test_driver_without_snapshot_class(api: Api, ns: str) -> None:
    api.create_pvc(ns, "nfs-src", "lab-nfs", "Filesystem", ["ReadWriteOnce"])
    wait_bound(api, ns, "nfs-src")
    snapshot(api, ns, "nfs-snap", "nfs-src")
    event = wait_event(api, ns, "nfs-snap", "SetDefaultSnapshotClassFailed")
    assert event[0] == "Warning" and "cannot find default snapshot class" in event[2]
    vs = api.custom_get(SNAP, "volumesnapshots", "nfs-snap", ns)
    assert vs["status"]["readyToUse"] is False
    assert "cannot find default snapshot class" in vs["status"]["error"]["message"]


@pytest.mark.slow
def test_delete_removes_content(lab: Lab, api: Api, ns: str) -> None:
    api.create_pvc(ns, "del-src", "lab-ceph-rbd", "Block", ["ReadWriteOnce"])
    wait_bound(api, ns, "del-src")
    snapshot(api, ns, "del-snap", "del-src")
    content = ready_snapshot(api, ns, "del-snap")["status"]["boundVolumeSnapshotContentName"]
    api.custom.delete_namespaced_custom_object(*SNAP, ns, "volumesnapshots", "del-snap")
    wait_for("content gone", lambda: content not in [
        c["metadata"]["name"] for c in
        api.custom.list_cluster_custom_object(*SNAP, "volumesnapshotcontents")["items"]])
