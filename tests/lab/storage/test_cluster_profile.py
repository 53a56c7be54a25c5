"""The new driver-file keys (`noise`, `type`, new faults, `cluster`) parse strictly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from suite.lab.clusterprofile import (
    DEFAULT_FEATURE_GATES,
    FEDORA_IMAGE,
    ClusterProfile,
    parse_cluster,
)
from suite.lab.drivers import NOISES, DriverProfileError, parse_drivers
from suite.lab.labprofile import load_lab_profile

GOOD = {"name": "x", "provisioner": "x.csi.io", "modes": {"Block": ["ReadWriteOnce"]}}


def _driver_error(**changes: object) -> str:
    with pytest.raises(DriverProfileError) as caught:
        parse_drivers({"drivers": [{**GOOD, **changes}]})
    assert "\n" not in str(caught.value)
    return str(caught.value)


def _cluster_error(section: object) -> str:
    with pytest.raises(DriverProfileError) as caught:
        parse_cluster(section)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_noise_type_and_new_faults_are_stored() -> None:
    driver = parse_drivers({"drivers": [{**GOOD, "noise": list(NOISES), "faults": [
        "hotplug-disk-invisible", "export-serves-stale-data"]}]})[0]
    assert driver.noise == NOISES and driver.has_noise("attach-slow")
    assert driver.has_fault("hotplug-disk-invisible") and driver.is_csi
    local = parse_drivers({"drivers": [{**GOOD, "type": "no-provisioner",
                                        "provisioner": "kubernetes.io/no-provisioner"}]})[0]
    assert local.class_provisioner == "kubernetes.io/no-provisioner" and not local.is_csi
    bucket = parse_drivers({"drivers": [{**GOOD, "type": "object-bucket"}]})[0]
    assert bucket.class_provisioner == "openshift-storage.noobaa.io/obc"


@pytest.mark.parametrize(("changes", "expected"), [
    ({"noise": ["jitter"]}, "drivers[0].noise[0]: 'jitter' is not one of provision-retry"),
    ({"noise": "attach-slow"}, "drivers[0].noise: expected a list of noise names"),
    ({"type": "nfs"}, "drivers[0].type: 'nfs' is not one of csi, no-provisioner"),
    ({"faults": ["hotplug-disk-visible"]}, "drivers[0].faults[0]: 'hotplug-disk-visible'"),
    ({"provisioner": "kubernetes.io/no-provisioner"},
     "drivers[0].provisioner: 'kubernetes.io/no-provisioner' is not a valid"),
])
def test_driver_key_mistakes(changes: dict, expected: str) -> None:
    assert expected in _driver_error(**changes)


def test_cluster_defaults_are_a_connected_openshift_virtualization() -> None:
    cluster = parse_cluster(None)
    assert cluster == ClusterProfile()
    assert cluster.schedulable_nodes == 3 and cluster.connected and cluster.guests == "process"
    assert {"ExpandDisks", "HotplugVolumes", "VMExport", "Snapshot"} <= set(
        cluster.feature_gates)
    assert cluster.image(FEDORA_IMAGE) is not None and not cluster.image(FEDORA_IMAGE).fio
    assert any(image.fio for image in cluster.images.values())
    assert cluster.image("docker.io/library/busybox:1") is None
    assert not cluster.api.any


def test_cluster_section_values() -> None:
    cluster = parse_cluster({
        "schedulableNodes": 1, "featureGates": ["HotplugVolumes"],
        "guestPackages": "air-gapped", "images": {"registry.example/fio:1": {"fio": True}},
        "api": {"throttle429": 0.1, "errors5xx": 0.05, "watchCutAfterS": 5, "latencyMs": 20}})
    assert cluster.schedulable_nodes == 1 and not cluster.has_gate("ExpandDisks")
    assert not cluster.connected and cluster.image("registry.example/fio:1").fio
    assert cluster.image(FEDORA_IMAGE) is None
    assert (cluster.api.throttle429, cluster.api.errors5xx, cluster.api.watch_cut_after_s,
            cluster.api.latency_ms) == (0.1, 0.05, 5.0, 20)
    assert parse_cluster({"featureGates": []}).feature_gates == ()
    assert parse_cluster({}).feature_gates == DEFAULT_FEATURE_GATES


@pytest.mark.parametrize(("section", "expected"), [
    ([], "cluster: expected a mapping"),
    ({"nodes": 3}, "cluster.nodes: unknown key; expected one of schedulableNodes"),
    ({"schedulableNodes": 0}, "cluster.schedulableNodes: expected an integer from 1 to 8"),
    ({"schedulableNodes": "2"}, "cluster.schedulableNodes: expected an integer"),
    ({"featureGates": "ExpandDisks"}, "cluster.featureGates: expected a list"),
    ({"featureGates": ["Expand Disks"]}, "cluster.featureGates[0]: 'Expand Disks' is not"),
    ({"guests": "vm"}, "cluster.guests: 'vm' is not one of process, qemu"),
    ({"guests": "qemu"}, "cluster.guests: 'qemu' guests are not implemented"),
    ({"guestPackages": "offline"}, "cluster.guestPackages: 'offline' is not one of"),
    ({"images": []}, "cluster.images: expected a mapping of image reference"),
    ({"images": {"Not An Image": {}}}, "cluster.images.Not An Image: not a valid image"),
    ({"images": {"a.io/b:1": {"fio": "yes"}}}, "cluster.images.a.io/b:1.fio: expected true"),
    ({"images": {"a.io/b:1": {"tools": []}}}, "cluster.images.a.io/b:1.tools: unknown key"),
    ({"api": {"throttle429": 2}}, "cluster.api.throttle429: expected a number from 0 to 1"),
    ({"api": {"errors5xx": -0.1}}, "cluster.api.errors5xx: expected a number"),
    ({"api": {"watchCutAfterS": "5s"}}, "cluster.api.watchCutAfterS: expected a number"),
    ({"api": {"latencyMs": 1.5}}, "cluster.api.latencyMs: expected an integer"),
    ({"api": {"slow": 1}}, "cluster.api.slow: unknown key; expected one of throttle429"),
])
def test_cluster_mistakes_name_their_path(section: object, expected: str) -> None:
    assert expected in _cluster_error(section)


def test_load_lab_profile(tmp_path: Path) -> None:
    assert load_lab_profile(None).cluster == ClusterProfile()
    path = tmp_path / "drivers.yaml"
    path.write_text(yaml.safe_dump({"drivers": [GOOD], "cluster": {"schedulableNodes": 2}}))
    profile = load_lab_profile(path)
    assert [d.name for d in profile.drivers] == ["x"] and profile.cluster.schedulable_nodes == 2
    path.write_text(yaml.safe_dump({"drivers": [GOOD], "clusters": {}}))
    with pytest.raises(DriverProfileError, match="expected top-level key 'drivers'"):
        load_lab_profile(path)
    path.write_text(yaml.safe_dump({"drivers": [GOOD], "cluster": {"guests": "qemu"}}))
    with pytest.raises(DriverProfileError, match=r"^cluster\.guests: 'qemu'"):
        load_lab_profile(path)
