"""Expansion per driver: online grows in use, offline waits for the volume to be free,
Filesystem claims finish on a node, `none` and shrinking are refused as the API server
refuses them. The export file the consumer sees really grows."""

from __future__ import annotations

import pytest
from kubernetes.client.exceptions import ApiException
from storagehelpers import (
    MIB,
    Api,
    export_of,
    wait_bound,
    wait_event,
    wait_for,
)

from suite.lab.dataplane.images import ext4_available
from suite.lab.lab import Lab


def _capacity(api: Api, ns: str, name: str) -> str:
    return str(api.pvc(ns, name)["status"]["capacity"]["storage"])


def _conditions(api: Api, ns: str, name: str) -> set[str]:
    return {c["type"] for c in api.pvc(ns, name)["status"].get("conditions") or []}


def _claim(api: Api, ns: str, name: str, sc: str, mode: str) -> str:
    api.create_pvc(ns, name, sc, mode, ["ReadWriteOnce"])
    return str(wait_bound(api, ns, name)["spec"]["volumeName"])


@pytest.mark.parametrize("sc", ["lab-ceph-rbd", "lab-slow"])
def test_online_block_grows_in_use(lab: Lab, api: Api, ns: str, sc: str) -> None:
    name = f"{sc}-block"
    pv = _claim(api, ns, name, sc, "Block")
    api.attach(pv, "lab-node-1", api.storage.read_storage_class(sc).provisioner)
    api.resize(ns, name, "128Mi")
    wait_for("capacity 128Mi", lambda: _capacity(api, ns, name) == "128Mi")
    assert export_of(lab, api, ns, name).stat().st_size == 128 * MIB
    assert wait_event(api, ns, name, "VolumeResizeSuccessful")[0] == "Normal"
    assert "allocatedResourceStatuses" not in api.pvc(ns, name)["status"]


def test_filesystem_finishes_on_the_node(lab: Lab, api: Api, ns: str) -> None:
    name = "rbd-fs"
    pv = _claim(api, ns, name, "lab-ceph-rbd", "Filesystem")
    api.resize(ns, name, "128Mi")
    wait_for("FileSystemResizePending", lambda: "FileSystemResizePending" in
             _conditions(api, ns, name))
    status = api.pvc(ns, name)["status"]
    assert status["capacity"]["storage"] == "64Mi"
    assert status["allocatedResources"]["storage"] == "128Mi"
    assert status["allocatedResourceStatuses"]["storage"] == "NodeResizePending"
    api.attach(pv, "lab-node-2", "rbd.csi.lab.io")
    wait_for("capacity 128Mi", lambda: _capacity(api, ns, name) == "128Mi")
    wait_event(api, ns, name, "FileSystemResizeSuccessful")
    # disk.img on a Filesystem volume: KubeVirt's rule, (1 - 0.055) x the usable space of
    # the claim's ext4, rounded down to 1 MiB (well under 0.945 x 128 MiB = 120 MiB)
    size = export_of(lab, api, ns, name).stat().st_size
    assert size == int(0.945 * ext4_available(128 * MIB)) // MIB * MIB < 120 * MIB


def test_offline_waits_until_unused(lab: Lab, api: Api, ns: str) -> None:
    name = "nfs-fs"
    pv = _claim(api, ns, name, "lab-nfs", "Filesystem")
    attachment = api.attach(pv, "lab-node-1", "nfs.csi.lab.io")
    wait_for("attached", lambda: api.storage.read_volume_attachment(attachment).status.attached)
    api.resize(ns, name, "96Mi")
    event = wait_event(api, ns, name, "VolumeResizeFailed")
    assert "only supports offline expansion" in event[2]
    assert _capacity(api, ns, name) == "64Mi"
    api.storage.delete_volume_attachment(attachment)
    wait_for("FileSystemResizePending", lambda: "FileSystemResizePending" in
             _conditions(api, ns, name))
    api.attach(pv, "lab-node-1", "nfs.csi.lab.io")
    wait_for("capacity 96Mi", lambda: _capacity(api, ns, name) == "96Mi")
    assert export_of(lab, api, ns, name).stat().st_size == \
        int(0.945 * ext4_available(96 * MIB)) // MIB * MIB


def test_no_expansion_is_forbidden(api: Api, ns: str) -> None:
    name = "local-fs"
    api.create_pvc(ns, name, "lab-local", "Filesystem", ["ReadWriteOnce"],
                   annotations={"volume.kubernetes.io/selected-node": "lab-node-3"})
    wait_bound(api, ns, name)
    with pytest.raises(ApiException) as refused:
        api.resize(ns, name, "128Mi")
    assert refused.value.status == 403
    assert "only dynamically provisioned pvc can be resized and the storageclass that " \
           "provisions the pvc must support resize" in refused.value.body


def test_shrink_is_invalid(api: Api, ns: str) -> None:
    name = "shrink"
    _claim(api, ns, name, "lab-slow", "Block")
    with pytest.raises(ApiException) as refused:
        api.resize(ns, name, "32Mi")
    assert refused.value.status == 422
    assert "spec.resources.requests.storage: Forbidden: field can not be less than " \
           "status.capacity" in refused.value.body
