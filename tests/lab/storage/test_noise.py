"""Noise: a healthy driver that behaves like a real one. Each kind shows through the real
client (a Warning event, a transient status) and then the operation succeeds. Non-CSI
classes (`type: no-provisioner`, `object-bucket`) never bind, with the real events."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from storagehelpers import (
    SNAP,
    Api,
    api_for,
    create_dv,
    snapshot,
    wait_bound,
    wait_dv,
    wait_event,
    wait_for,
)

from suite.lab.lab import Lab

NOISY = """
drivers:
  - name: noisy
    provisioner: noisy.csi.lab.io
    modes: {Block: [ReadWriteOnce], Filesystem: [ReadWriteOnce]}
    expansion: online
    snapshots: true
    noise: [provision-retry, resize-retry, attach-slow, snapshot-slow, capacity-rounds-up]
  - name: local
    type: no-provisioner
    provisioner: kubernetes.io/no-provisioner
    volumeBindingMode: WaitForFirstConsumer
    modes: {Filesystem: [ReadWriteOnce]}
  - name: local-now
    type: no-provisioner
    provisioner: kubernetes.io/no-provisioner
    modes: {Filesystem: [ReadWriteOnce]}
  - name: bucket
    type: object-bucket
    provisioner: openshift-storage.noobaa.io/obc
    modes: {Filesystem: [ReadWriteOnce]}
"""
DEADLINE = "rpc error: code = DeadlineExceeded desc = context deadline exceeded"


@pytest.fixture
def noisy(lab_factory: Callable[[str], Lab]) -> tuple[Lab, Api, str]:
    lab = lab_factory(NOISY)
    api = api_for(lab)
    api.core.create_namespace({"metadata": {"name": "noise"}})
    return lab, api, "noise"


@pytest.mark.slow
def test_noise_then_success(noisy: tuple[Lab, Api, str]) -> None:
    _, api, ns = noisy
    api.create_pvc(ns, "disk", "noisy", "Block", ["ReadWriteOnce"], size="100Mi")
    failed = wait_event(api, ns, "disk", "ProvisioningFailed")
    assert failed == ("Warning", "ProvisioningFailed",
                      f'failed to provision volume with StorageClass "noisy": {DEADLINE}')
    pvc = wait_bound(api, ns, "disk")
    assert pvc["status"]["capacity"]["storage"] == "1Gi"  # capacity-rounds-up
    assert pvc["spec"]["resources"]["requests"]["storage"] == "100Mi"
    pv = pvc["spec"]["volumeName"]

    started = time.monotonic()
    attachment = api.attach(pv, "lab-node-1", "noisy.csi.lab.io")

    def attached() -> bool:
        status = api.storage.read_volume_attachment(attachment).status
        return bool(status and status.attached)
    time.sleep(1.0)
    assert not attached()
    wait_for("attached", attached)
    assert time.monotonic() - started >= 1.5  # attach-slow

    api.resize(ns, "disk", "1500Mi")
    resize = wait_event(api, ns, "disk", "VolumeResizeFailed")
    assert resize[0] == "Warning" and resize[2].endswith(DEADLINE)
    wait_for("PVC reports 2Gi", lambda: api.pvc(ns, "disk")["status"]["capacity"]["storage"]
             == "2Gi")

    snapshot(api, ns, "snap", "disk")
    vs = wait_for("snapshot cut", lambda: (api.custom_get(SNAP, "volumesnapshots", "snap", ns)
                                           .get("status") or {}).get("creationTime")
                  and api.custom_get(SNAP, "volumesnapshots", "snap", ns))
    assert vs["status"]["readyToUse"] is False  # snapshot-slow
    wait_for("snapshot ready", lambda: api.custom_get(SNAP, "volumesnapshots", "snap", ns)
             ["status"]["readyToUse"], timeout_s=15)


@pytest.mark.slow
def test_non_csi_classes_never_bind(noisy: tuple[Lab, Api, str]) -> None:
    _, api, ns = noisy
    classes = {sc.metadata.name: sc.provisioner for sc in api.storage.list_storage_class().items}
    assert classes["local"] == "kubernetes.io/no-provisioner"
    assert classes["bucket"] == "openshift-storage.noobaa.io/obc"
    drivers = {d.metadata.name for d in api.storage.list_csi_driver().items}
    assert drivers == {"noisy.csi.lab.io"}
    for claim, sc in (("wffc", "local"), ("now", "local-now"), ("obc", "bucket")):
        api.create_pvc(ns, claim, sc, "Filesystem", ["ReadWriteOnce"])
    assert wait_event(api, ns, "wffc", "WaitForFirstConsumer")[2] == \
        "waiting for first consumer to be created before binding"
    for claim, provisioner in (("now", "kubernetes.io/no-provisioner"),
                               ("obc", "openshift-storage.noobaa.io/obc")):
        message = wait_event(api, ns, claim, "ExternalProvisioning")[2]
        assert f"external provisioner '{provisioner}'" in message
    time.sleep(2.0)
    for claim in ("wffc", "now", "obc"):
        assert api.pvc(ns, claim)["status"]["phase"] == "Pending"
    profile = api.custom_get(("cdi.kubevirt.io", "v1beta1"), "storageprofiles", "bucket")
    assert not profile["status"].get("claimPropertySets")


def test_import_and_clone_pods_fail_once(lab_factory: Callable[[str], Lab]) -> None:
    lab = lab_factory(NOISY.replace("capacity-rounds-up]", "import-retry]").replace(
        "    snapshots: true\n", "    snapshots: true\n    clone: copy\n"))
    api = api_for(lab)
    ns = "default"
    storage = {"storageClassName": "noisy", "volumeMode": "Block",
               "resources": {"requests": {"storage": "64Mi"}}}
    create_dv(api, ns, "src", {"blank": {}}, storage)
    dv = wait_dv(api, ns, "src", timeout_s=40)
    assert dv["status"]["restartCount"] == 1
    errors = [e for e in api.events(ns, "src") if e[1] == "Error"]
    assert errors and errors[0][0] == "Warning" and \
        errors[0][2].startswith("Unable to process data: ")
    create_dv(api, ns, "copy", {"pvc": {"namespace": ns, "name": "src"}}, storage)
    assert wait_dv(api, ns, "copy", timeout_s=40)["status"]["restartCount"] == 1
