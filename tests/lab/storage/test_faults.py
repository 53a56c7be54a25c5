"""Each storage fault makes its driver lie the way docs/lab-drivers.md says, while the API reports
success: stale restores, all-zero clones, expansion a running consumer cannot see,
claims that never bind, and plaintext under a class that declares LUKS."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from storagehelpers import (
    MIB,
    Api,
    api_for,
    create_dv,
    export_of,
    handle_of,
    read_at,
    ready_snapshot,
    restore,
    snapshot,
    wait_bound,
    wait_dv,
    wait_event,
    wait_for,
    write_at,
)

from suite.lab.lab import Lab

MARK = b"this-is-the-guest-data-0123456789" * 8


def _driver(name: str, fault: str, extra: str = "") -> str:
    return f"""
drivers:
  - name: {name}
    provisioner: {name}.csi.lab.io
    defaultVirt: true
    modes: {{Block: [ReadWriteOnce], Filesystem: [ReadWriteOnce]}}
    expansion: online
    snapshots: true
    clone: csi-clone
    faults: [{fault}]
{extra}"""


def _start(lab_factory: Callable[[str], Lab], text: str) -> tuple[Lab, Api, str]:
    lab = lab_factory(text)
    api = api_for(lab)
    api.core.create_namespace({"metadata": {"name": "faults"}})
    return lab, api, "faults"


def test_snapshot_restores_stale_data(lab_factory: Callable[[str], Lab]) -> None:
    lab, api, ns = _start(lab_factory, _driver("stale", "snapshot-restores-stale-data"))
    api.create_pvc(ns, "src", "stale", "Block", ["ReadWriteOnce"])
    wait_bound(api, ns, "src")
    write_at(export_of(lab, api, ns, "src"), MIB, MARK)
    snapshot(api, ns, "snap", "src")
    ready_snapshot(api, ns, "snap")  # the API says all is well
    restore(api, ns, "restored", "stale", "Block", "snap", "64Mi")
    wait_bound(api, ns, "restored")
    assert read_at(export_of(lab, api, ns, "restored"), MIB, len(MARK)) == bytes(len(MARK))


def test_clone_returns_zeroes(lab_factory: Callable[[str], Lab]) -> None:
    lab, api, ns = _start(lab_factory, _driver("zero", "clone-returns-zeroes"))
    create_dv(api, ns, "src", {"blank": {}}, {"volumeMode": "Block",
                                              "resources": {"requests": {"storage": "64Mi"}}})
    wait_dv(api, ns, "src")
    write_at(export_of(lab, api, ns, "src"), MIB, MARK)
    create_dv(api, ns, "clone", {"pvc": {"namespace": ns, "name": "src"}},
              {"volumeMode": "Block", "resources": {"requests": {"storage": "64Mi"}}})
    wait_dv(api, ns, "clone")
    clone = export_of(lab, api, ns, "clone")
    assert clone.stat().st_size == 64 * MIB
    assert read_at(clone, MIB, len(MARK)) == bytes(len(MARK))


def test_online_expansion_invisible_to_guest(lab_factory: Callable[[str], Lab]) -> None:
    lab, api, ns = _start(lab_factory, _driver("blind", "online-expansion-invisible-to-guest"))
    api.create_pvc(ns, "disk", "blind", "Block", ["ReadWriteOnce"])
    pv = wait_bound(api, ns, "disk")["spec"]["volumeName"]
    attachment = api.attach(pv, "lab-node-1", "blind.csi.lab.io")
    wait_for("attached", lambda: api.storage.read_volume_attachment(attachment).status.attached)
    api.resize(ns, "disk", "128Mi")
    wait_for("PVC reports 128Mi", lambda: api.pvc(ns, "disk")["status"]["capacity"]["storage"]
             == "128Mi")
    assert export_of(lab, api, ns, "disk").stat().st_size == 64 * MIB


def test_provisioning_hangs(lab_factory: Callable[[str], Lab]) -> None:
    _, api, ns = _start(lab_factory, _driver("hang", "provisioning-hangs"))
    api.create_pvc(ns, "offered", "hang", "Block", ["ReadWriteOnce"])
    api.create_pvc(ns, "refused", "hang", "Block", ["ReadWriteMany"])
    wait_event(api, ns, "refused", "ProvisioningFailed")
    wait_event(api, ns, "offered", "ExternalProvisioning")
    assert not [e for e in api.events(ns, "offered") if e[1] == "ProvisioningFailed"]
    assert api.pvc(ns, "offered")["status"]["phase"] == "Pending"


def _raw_image(lab: Lab, api: Api, ns: str, claim: str) -> Path:
    assert lab.state_dir is not None
    return lab.state_dir / "volumes" / handle_of(api, ns, claim) / "disk.raw"


def test_encryption_not_applied(lab_factory: Callable[[str], Lab]) -> None:
    text = _driver("plain", "encryption-not-applied") + "    encryption: luks\n"
    lab, api, ns = _start(lab_factory, text)
    assert api.storage.read_storage_class("plain").parameters["encrypted"] == "true"
    api.create_pvc(ns, "disk", "plain", "Block", ["ReadWriteOnce"])
    wait_bound(api, ns, "disk")
    write_at(export_of(lab, api, ns, "disk"), MIB, MARK)
    assert MARK in _raw_image(lab, api, ns, "disk").read_bytes()


def test_luks_keeps_plaintext_off_disk(lab: Lab, api: Api, ns: str) -> None:
    api.create_pvc(ns, "secret", "lab-ceph-rbd", "Block", ["ReadWriteOnce"])
    wait_bound(api, ns, "secret")
    write_at(export_of(lab, api, ns, "secret"), MIB, MARK)
    assert read_at(export_of(lab, api, ns, "secret"), MIB, len(MARK)) == MARK
    assert MARK not in _raw_image(lab, api, ns, "secret").read_bytes()
