"""What discovery finds for the default drivers: classes shaped like a vendor's, CSI
drivers and nodes, snapshot classes, the StorageProfiles CDI computes and the CDI CR."""

from __future__ import annotations

import base64
from collections.abc import Callable

from kubernetes.client.exceptions import ApiException
from storagehelpers import CDI, SNAP, Api, wait_for


def test_storage_classes(api: Api) -> None:
    classes = {sc.metadata.name: sc for sc in api.storage.list_storage_class().items}
    assert sorted(classes) == ["lab-ceph-rbd", "lab-local", "lab-nfs", "lab-slow"]
    rbd = classes["lab-ceph-rbd"]
    assert rbd.metadata.annotations == {"storageclass.kubevirt.io/is-default-virt-class": "true"}
    assert classes["lab-nfs"].metadata.annotations == {
        "storageclass.kubernetes.io/is-default-class": "true"}
    assert rbd.parameters["encrypted"] == "true" and rbd.parameters["encryptionKMSID"]
    assert classes["lab-local"].volume_binding_mode == "WaitForFirstConsumer"
    assert classes["lab-local"].allow_volume_expansion is False
    assert classes["lab-nfs"].allow_volume_expansion is True
    assert all(sc.reclaim_policy == "Delete" for sc in classes.values())
    assert "encrypted" not in classes["lab-nfs"].parameters


def test_luks_secret_named_by_the_class(api: Api) -> None:
    params = api.storage.read_storage_class("lab-ceph-rbd").parameters
    secret = api.core.read_namespaced_secret(
        params["csi.storage.k8s.io/node-stage-secret-name"],
        params["csi.storage.k8s.io/node-stage-secret-namespace"])
    assert len(base64.b64decode(secret.data["encryptionPassphrase"])) >= 16


def test_csi_drivers_and_nodes(api: Api) -> None:
    drivers = sorted(d.metadata.name for d in api.storage.list_csi_driver().items)
    assert drivers == ["local.csi.lab.io", "nfs.csi.lab.io", "rbd.csi.lab.io", "slow.csi.lab.io"]
    nodes = api.storage.list_csi_node().items
    assert sorted(n.metadata.name for n in nodes) == ["lab-node-1", "lab-node-2", "lab-node-3"]
    for node in nodes:
        assert {d.name for d in node.spec.drivers} == set(drivers)
        assert all(d.allocatable.count > 0 for d in node.spec.drivers)


def test_snapshot_classes_only_for_snapshotting_drivers(api: Api) -> None:
    items = api.custom.list_cluster_custom_object(*SNAP, "volumesnapshotclasses")["items"]
    assert sorted(c["driver"] for c in items) == ["rbd.csi.lab.io", "slow.csi.lab.io"]
    assert all(c["deletionPolicy"] == "Delete" for c in items)


def test_storage_profiles(api: Api) -> None:
    rbd = api.custom_get(CDI, "storageprofiles", "lab-ceph-rbd")["status"]
    assert rbd["claimPropertySets"] == [
        {"accessModes": ["ReadWriteOnce", "ReadWriteMany"], "volumeMode": "Block"},
        {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"}]
    assert rbd["cloneStrategy"] == "csi-clone" and rbd["snapshotClass"] == "lab-ceph-rbd-snapclass"
    nfs = api.custom_get(CDI, "storageprofiles", "lab-nfs")["status"]
    assert nfs["cloneStrategy"] == "copy" and "snapshotClass" not in nfs
    assert nfs["provisioner"] == "nfs.csi.lab.io"


def test_cdi_deployed(api: Api) -> None:
    cdi = api.custom_get(CDI, "cdis", "cdi-kubevirt-hyperconverged")
    assert cdi["status"]["phase"] == "Deployed"
    assert cdi["status"]["observedVersion"].startswith("v1.")
    assert float(cdi["spec"]["config"]["filesystemOverhead"]["global"]) == 0.055


def test_profile_follows_a_new_class(api: Api) -> None:
    api.storage.create_storage_class({"metadata": {"name": "vendor-x"},
                                      "provisioner": "csi.vendor-x.example.com"})
    try:
        profile = wait_for("profile", lambda: _try(lambda: api.custom_get(
            CDI, "storageprofiles", "vendor-x")))
        assert profile["status"]["claimPropertySets"] == []
        assert profile["status"]["conditions"][0]["reason"] == "UnrecognizedProvisioner"
    finally:
        api.storage.delete_storage_class("vendor-x")
    wait_for("profile gone", lambda: "vendor-x" not in [p["metadata"]["name"] for p in
             api.custom.list_cluster_custom_object(*CDI, "storageprofiles")["items"]])


def _try(call: Callable[[], dict]) -> dict | None:
    try:
        return call()
    except ApiException:
        return None
