"""The attacher: a VolumeAttachment attaches through the data plane and detaches on
deletion; an RWO volume attached elsewhere gets the Multi-Attach error, RWX does not."""

from __future__ import annotations

import pytest
from storagehelpers import Api, wait_bound, wait_for

VA_FINALIZER = "external-attacher/rbd-csi-lab-io"


def _status(api: Api, name: str) -> dict:
    va = api.storage.read_volume_attachment(name)
    return api.client.sanitize_for_serialization(va.status) or {}


def test_attach_and_detach(api: Api, ns: str) -> None:
    api.create_pvc(ns, "rwo", "lab-ceph-rbd", "Block", ["ReadWriteOnce"])
    pv = wait_bound(api, ns, "rwo")["spec"]["volumeName"]
    first = api.attach(pv, "lab-node-1", "rbd.csi.lab.io")
    status = wait_for("attached", lambda: (lambda s: s if s.get("attached") else None)(
        _status(api, first)))
    assert status["attachmentMetadata"]["devicePath"]
    assert VA_FINALIZER in api.storage.read_volume_attachment(first).metadata.finalizers
    second = api.attach(pv, "lab-node-2", "rbd.csi.lab.io")
    error = wait_for("attach error", lambda: _status(api, second).get("attachError"))
    assert error["message"].startswith(f'Multi-Attach error for volume "{pv}"')
    assert _status(api, second)["attached"] is False
    api.storage.delete_volume_attachment(first)
    wait_for("detached and gone", lambda: first not in [
        v.metadata.name for v in api.storage.list_volume_attachment().items])
    wait_for("second attaches once the first is gone",
             lambda: _status(api, second).get("attached"))
    api.storage.delete_volume_attachment(second)


def test_rwx_attaches_on_two_nodes(api: Api, ns: str) -> None:
    api.create_pvc(ns, "rwx", "lab-ceph-rbd", "Block", ["ReadWriteMany"])
    pv = wait_bound(api, ns, "rwx")["spec"]["volumeName"]
    names = [api.attach(pv, node, "rbd.csi.lab.io") for node in ("lab-node-1", "lab-node-3")]
    for name in names:
        wait_for(f"{name} attached", lambda name=name: _status(api, name).get("attached"))
    for name in names:
        api.storage.delete_volume_attachment(name)


@pytest.mark.slow
def test_attach_limit_of_the_node(api: Api, ns: str) -> None:
    """The limit is the CSINode's allocatable count (lowered here as a kubelet would
    report a node with few free slots, and put back afterwards)."""
    original = api.client.sanitize_for_serialization(
        api.storage.read_csi_node("lab-node-3").spec.drivers)
    lowered = [{**entry, "allocatable": {"count": 1}} if entry["name"] == "slow.csi.lab.io"
               else entry for entry in original]
    api.storage.patch_csi_node("lab-node-3", {"spec": {"drivers": lowered}})
    try:
        _fill_one_slot(api, ns)
    finally:
        api.storage.patch_csi_node("lab-node-3", {"spec": {"drivers": original}})


def _fill_one_slot(api: Api, ns: str) -> None:
    pvs = []
    for name in ("limit-a", "limit-b"):
        api.create_pvc(ns, name, "lab-slow", "Block", ["ReadWriteOnce"])
        pvs.append(wait_bound(api, ns, name)["spec"]["volumeName"])
    first = api.attach(pvs[0], "lab-node-3", "slow.csi.lab.io")
    wait_for("first attached", lambda: _status(api, first).get("attached"))
    second = api.attach(pvs[1], "lab-node-3", "slow.csi.lab.io")
    error = wait_for("attach limit error", lambda: _status(api, second).get("attachError"))
    assert "ResourceExhausted" in error["message"] and "maximum of 1" in error["message"]
    for name in (first, second):
        api.storage.delete_volume_attachment(name)
