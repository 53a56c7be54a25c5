"""For every default driver, each volume mode x access mode: bound, or refused the way
the external-provisioner refuses (a ProvisioningFailed warning, the claim left Pending)."""

from __future__ import annotations

import pytest
from storagehelpers import Api, handle_of, wait_bound, wait_event, wait_for

from suite.lab.drivers import load_drivers
from suite.lab.lab import Lab

ACCESS = {"RWO": "ReadWriteOnce", "RWX": "ReadWriteMany"}
CASES = [(d.name, mode, short, ACCESS[short] in d.modes.get(mode, ()))
         for d in load_drivers(None) for mode in ("Block", "Filesystem") for short in ACCESS]


def _claim(case: tuple[str, str, str, bool]) -> str:
    return f"{case[0]}-{case[1]}-{case[2]}".lower()


@pytest.fixture(scope="module")
def claims(api: Api, ns: str) -> str:
    """All claims of the matrix at once, so the drivers work on them in parallel."""
    for case in CASES:
        api.create_pvc(ns, _claim(case), case[0], case[1], [ACCESS[case[2]]])
    return ns


@pytest.mark.parametrize("case", CASES, ids=[_claim(c) for c in CASES])
def test_claim_outcome(api: Api, claims: str, case: tuple[str, str, str, bool]) -> None:
    sc, mode, _access, offered = case
    name = _claim(case)
    if sc == "lab-local":  # WaitForFirstConsumer: nothing happens before a node is chosen
        wait_event(api, claims, name, "WaitForFirstConsumer")
        assert api.pvc(claims, name)["status"]["phase"] == "Pending"
        api.core.patch_namespaced_persistent_volume_claim(name, claims, {"metadata": {
            "annotations": {"volume.kubernetes.io/selected-node": "lab-node-2"}}})
    if offered:
        pvc = wait_bound(api, claims, name)
        pv = api.client.sanitize_for_serialization(
            api.core.read_persistent_volume(pvc["spec"]["volumeName"]))
        _assert_bound_pair(pvc, pv, sc, mode)
    else:
        event = wait_event(api, claims, name, "ProvisioningFailed")
        assert event[0] == "Warning"
        assert f'StorageClass "{sc}"' in event[2] and "rpc error" in event[2]
        assert api.pvc(claims, name)["status"]["phase"] == "Pending"


def _assert_bound_pair(pvc: dict, pv: dict, sc: str, mode: str) -> None:
    anns = pvc["metadata"]["annotations"]
    assert anns["pv.kubernetes.io/bind-completed"] == "yes"
    assert pvc["status"]["capacity"]["storage"] == "64Mi"
    assert pvc["status"]["accessModes"] == pvc["spec"]["accessModes"]
    assert "kubernetes.io/pvc-protection" in pvc["metadata"]["finalizers"]
    assert pv["spec"]["claimRef"]["uid"] == pvc["metadata"]["uid"]
    assert pv["spec"]["storageClassName"] == sc and pv["spec"]["volumeMode"] == mode
    assert pv["spec"]["csi"]["driver"].endswith(".csi.lab.io")
    assert ("fsType" in pv["spec"]["csi"]) == (mode == "Filesystem")
    assert pv["status"]["phase"] == "Bound"


def test_delete_reclaims_volume(lab: Lab, api: Api, claims: str) -> None:
    name = "lab-nfs-filesystem-rwx"
    pv_name = wait_bound(api, claims, name)["spec"]["volumeName"]
    assert lab.state_dir is not None
    folder = lab.state_dir / "volumes" / handle_of(api, claims, name)
    assert folder.is_dir()
    api.core.delete_namespaced_persistent_volume_claim(name, claims)
    wait_for("PV removed", lambda: pv_name not in
             [p.metadata.name for p in api.core.list_persistent_volume().items])
    wait_for("volume removed from the data plane", lambda: not folder.exists())


def test_claim_in_use_waits_for_its_consumer(api: Api, claims: str) -> None:
    name = "lab-ceph-rbd-block-rwx"
    wait_bound(api, claims, name)
    api.core.create_namespaced_pod(claims, {
        "metadata": {"name": "user"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}],
                 "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": name}}]}})
    api.core.delete_namespaced_persistent_volume_claim(name, claims)
    pvc = api.pvc(claims, name)
    assert pvc["metadata"]["deletionTimestamp"]
    api.core.delete_namespaced_pod("user", claims, grace_period_seconds=0)
    wait_for("claim gone once unused", lambda: name not in [
        p.metadata.name for p in api.core.list_namespaced_persistent_volume_claim(claims).items])
