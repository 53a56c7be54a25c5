"""CDI DataVolumes: http imports whose bytes match the served image (raw and qcow2),
StorageProfile defaults and filesystem overhead, WaitForFirstConsumer, and clones
holding the source's bytes with the strategy CDI records."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from storagehelpers import (
    CDI,
    MIB,
    Api,
    api_for,
    create_dv,
    dv_phase,
    export_of,
    read_at,
    ready_snapshot,
    snapshot,
    wait_bound,
    wait_dv,
    wait_event,
    wait_for,
    write_at,
)

from suite.lab.lab import Lab

IMMEDIATE = {"cdi.kubevirt.io/storage.bind.immediate.requested": "true"}
MARK = b"clone-me-please:" * 16


def _storage(sc: str, size: str = "64Mi", mode: str | None = None) -> dict:
    storage: dict = {"storageClassName": sc, "resources": {"requests": {"storage": size}}}
    if mode:
        storage.update(volumeMode=mode, accessModes=["ReadWriteOnce"])
    return storage


@pytest.mark.parametrize(("image", "sc", "mode"), [("pattern.raw", "lab-ceph-rbd", "Block"),
                                                   ("pattern.qcow2", "lab-nfs", "Filesystem")])
def test_http_import_matches_served_image(lab: Lab, api: Api, ns: str, image: str, sc: str,
                                          mode: str) -> None:
    assert lab.ctx is not None
    facts = lab.ctx.extras["images"][image]
    name = image.replace(".", "-")
    create_dv(api, ns, name, {"http": {"url": facts["url"]}}, _storage(sc, mode=mode))
    dv = wait_dv(api, ns, name)
    assert dv["status"]["progress"] == "100.0%"
    conditions = {c["type"]: (c["status"], c["reason"]) for c in dv["status"]["conditions"]}
    assert conditions == {"Bound": ("True", "Bound"), "Ready": ("True", ""),
                          "Running": ("False", "Completed")}
    imported = read_at(export_of(lab, api, ns, name), 0, facts["size"])
    assert hashlib.sha256(imported).hexdigest() == facts["sha256"]
    assert imported[4096:4096 + 34] == b"kvs-lab-image block 00000001\nkvs-l"
    anns = api.pvc(ns, name)["metadata"]["annotations"]
    assert anns["cdi.kubevirt.io/storage.pod.phase"] == "Succeeded"
    assert anns["cdi.kubevirt.io/storage.import.endpoint"] == facts["url"]


def test_storage_defaults_from_profile(api: Api, ns: str) -> None:
    create_dv(api, ns, "defaults", {"blank": {}}, {"resources": {"requests": {"storage": "1Gi"}}})
    wait_dv(api, ns, "defaults")
    pvc = api.pvc(ns, "defaults")
    assert pvc["spec"]["storageClassName"] == "lab-ceph-rbd"  # the default virt class
    assert pvc["spec"]["volumeMode"] == "Block"
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce", "ReadWriteMany"]
    assert pvc["metadata"]["ownerReferences"][0]["kind"] == "DataVolume"
    create_dv(api, ns, "fs-overhead", {"blank": {}}, _storage("lab-nfs", "1Gi"))
    wait_dv(api, ns, "fs-overhead")
    # CDI: align to 1 MiB, then size / (1 - 0.055)
    assert api.pvc(ns, "fs-overhead")["spec"]["resources"]["requests"]["storage"] == "1136234735"


def test_wait_for_first_consumer(api: Api, ns: str) -> None:
    create_dv(api, ns, "wffc", {"blank": {}}, _storage("lab-local"))
    wait_dv(api, ns, "wffc", "PendingPopulation")
    assert api.pvc(ns, "wffc")["status"]["phase"] == "Pending"
    create_dv(api, ns, "wffc-now", {"blank": {}}, _storage("lab-local"), IMMEDIATE)
    wait_dv(api, ns, "wffc-now")
    anns = api.pvc(ns, "wffc-now")["metadata"]["annotations"]
    assert anns["volume.kubernetes.io/selected-node"].startswith("lab-node-")


@pytest.mark.parametrize(("sc", "mode", "strategy"), [
    ("lab-ceph-rbd", "Block", "csi-clone"), ("lab-nfs", "Filesystem", "copy"),
    ("lab-slow", "Block", "snapshot"), ("lab-local", "Filesystem", "copy")])
def test_clone_holds_source_bytes(lab: Lab, api: Api, ns: str, sc: str, mode: str,
                                  strategy: str) -> None:
    src, dst = f"{sc}-src", f"{sc}-clone"
    create_dv(api, ns, src, {"blank": {}}, _storage(sc, mode=mode), IMMEDIATE)
    wait_dv(api, ns, src)
    write_at(export_of(lab, api, ns, src), 3 * MIB, MARK)
    create_dv(api, ns, dst, {"pvc": {"namespace": ns, "name": src}}, _storage(sc, mode=mode),
              IMMEDIATE)
    dv = wait_dv(api, ns, dst)
    assert read_at(export_of(lab, api, ns, dst), 3 * MIB, len(MARK)) == MARK
    assert api.pvc(ns, dst)["metadata"]["annotations"]["cdi.kubevirt.io/cloneType"] == strategy
    assert dv["metadata"]["annotations"]["cdi.kubevirt.io/cloneType"] == strategy
    assert "cdi.kubevirt.io/cloneFallbackReason" not in dv["metadata"]["annotations"]


def test_clone_falls_back_when_modes_differ(lab: Lab, api: Api, ns: str) -> None:
    create_dv(api, ns, "blk-src", {"blank": {}}, _storage("lab-ceph-rbd", mode="Block"))
    wait_dv(api, ns, "blk-src")
    create_dv(api, ns, "fs-dst", {"pvc": {"namespace": ns, "name": "blk-src"}},
              _storage("lab-ceph-rbd", mode="Filesystem"))
    wait_dv(api, ns, "fs-dst")
    anns = api.pvc(ns, "fs-dst")["metadata"]["annotations"]
    assert anns["cdi.kubevirt.io/cloneType"] == "copy"
    assert anns["cdi.kubevirt.io/cloneFallbackReason"] == \
        "The volume modes of source and target are incompatible"


def test_unreachable_url_keeps_retrying(lab: Lab, api: Api, ns: str) -> None:
    assert lab.ctx is not None
    url = lab.ctx.extras["image_server_url"] + "/absent.img"
    create_dv(api, ns, "absent", {"http": {"url": url}}, _storage("lab-nfs"))
    wait_bound(api, ns, "absent")
    wait_for("a restart", lambda: (api.custom_get(CDI, "datavolumes", "absent", ns)
                                   .get("status") or {}).get("restartCount", 0) >= 1)
    assert dv_phase(api, ns, "absent") == "ImportInProgress"


@pytest.mark.slow
def test_clone_from_volume_snapshot(lab: Lab, api: Api, ns: str) -> None:
    api.create_pvc(ns, "snap-src", "lab-ceph-rbd", "Block", ["ReadWriteOnce"])
    wait_bound(api, ns, "snap-src")
    write_at(export_of(lab, api, ns, "snap-src"), MIB, MARK)
    snapshot(api, ns, "snap-of-src", "snap-src")
    ready_snapshot(api, ns, "snap-of-src")
    create_dv(api, ns, "from-snap", {"snapshot": {"namespace": ns, "name": "snap-of-src"}},
              _storage("lab-ceph-rbd", mode="Block"))
    wait_dv(api, ns, "from-snap")
    assert read_at(export_of(lab, api, ns, "from-snap"), MIB, len(MARK)) == MARK
    assert api.pvc(ns, "from-snap")["metadata"]["annotations"][
        "cdi.kubevirt.io/cloneType"] == "snapshot"


NO_SNAPSHOTS = """
drivers:
  - name: nosnap
    provisioner: nosnap.csi.lab.io
    modes: {Block: [ReadWriteOnce]}
    snapshots: false
    clone: snapshot
"""


def test_snapshot_strategy_without_snapshot_class_copies(
        lab_factory: Callable[[str], Lab]) -> None:
    lab = lab_factory(NO_SNAPSHOTS)
    api, ns = api_for(lab), "fallback"
    api.core.create_namespace({"metadata": {"name": ns}})
    create_dv(api, ns, "src", {"blank": {}}, _storage("nosnap", mode="Block"))
    wait_dv(api, ns, "src")
    write_at(export_of(lab, api, ns, "src"), MIB, MARK)
    create_dv(api, ns, "dst", {"pvc": {"namespace": ns, "name": "src"}},
              _storage("nosnap", mode="Block"))
    wait_dv(api, ns, "dst")
    anns = api.pvc(ns, "dst")["metadata"]["annotations"]
    assert anns["cdi.kubevirt.io/cloneType"] == "copy"
    assert anns["cdi.kubevirt.io/cloneFallbackReason"] == "No compatible volumesnapshotclass found"
    assert wait_event(api, ns, "dst", "NoVolumeSnapshotClass")[0] == "Warning"
    assert read_at(export_of(lab, api, ns, "dst"), MIB, len(MARK)) == MARK
