"""Driver profiles are parsed strictly: every mistake is one line naming its path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from suite.lab.drivers import DriverProfileError, load_drivers, parse_drivers
from suite.lab.storage.common import format_quantity, parse_quantity

GOOD = {"name": "x", "provisioner": "x.csi.io", "modes": {"Block": ["ReadWriteOnce"]}}


def _error(**changes: object) -> str:
    driver = {**GOOD, **changes}
    with pytest.raises(DriverProfileError) as caught:
        parse_drivers({"drivers": [GOOD | {"name": "first"}, driver]})
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_defaults() -> None:
    drivers = {d.name: d for d in load_drivers(None)}
    assert sorted(drivers) == ["lab-ceph-rbd", "lab-local", "lab-nfs", "lab-slow"]
    rbd = drivers["lab-ceph-rbd"]
    assert rbd.default_virt and rbd.encryption == "luks" and rbd.clone == "csi-clone"
    assert rbd.offers("Block", ["ReadWriteMany"]) and not rbd.offers("Filesystem",
                                                                     ["ReadWriteMany"])
    assert drivers["lab-slow"].limits == {"iops": 400, "bandwidthMiBs": 40}
    assert drivers["lab-local"].volume_binding_mode == "WaitForFirstConsumer"
    assert not drivers["lab-local"].noise  # a quiet class beside noisy ones
    assert drivers["lab-slow"].has_noise("attach-slow")
    assert rbd.has_noise("provision-retry") and drivers["lab-nfs"].has_noise("resize-retry")


@pytest.mark.parametrize(("changes", "expected"), [
    ({"modes": {"Blok": ["ReadWriteOnce"]}},
     "drivers[1].modes.Blok: unknown volume mode; expected Block or Filesystem"),
    ({"modes": {"Block": ["RWO"]}}, "drivers[1].modes.Block[0]: 'RWO' is not one of"),
    ({"faults": ["disk-on-fire"]}, "drivers[1].faults[0]: 'disk-on-fire' is not one of"),
    ({"expansion": "sometimes"}, "drivers[1].expansion: 'sometimes' is not one of"),
    ({"snapshots": "yes"}, "drivers[1].snapshots: expected true or false"),
    ({"limits": {"iops": -1}}, "drivers[1].limits.iops: expected a positive integer"),
    ({"limits": {"latency": 1}}, "drivers[1].limits.latency: unknown key"),
    ({"colour": "red"}, "drivers[1].colour: unknown key"),
    ({"name": "Not_A_Name"}, "drivers[1].name: 'Not_A_Name' is not a valid"),
    ({"name": "first"}, "drivers[1].name: duplicate StorageClass name 'first'"),
])
def test_mistakes_name_their_path(changes: dict, expected: str) -> None:
    assert expected in _error(**changes)


def test_missing_required_key() -> None:
    with pytest.raises(DriverProfileError, match=r"^drivers\[0\]\.modes: required$"):
        parse_drivers({"drivers": [{"name": "a", "provisioner": "b"}]})


def test_file_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("drivers: [\n")
    with pytest.raises(DriverProfileError, match="not valid YAML"):
        load_drivers(broken)
    top = tmp_path / "top.yaml"
    top.write_text(yaml.safe_dump({"driver": []}))
    with pytest.raises(DriverProfileError, match="expected top-level key 'drivers'"):
        load_drivers(top)


def test_quantities() -> None:
    assert parse_quantity("64Mi") == 64 * 2**20 and parse_quantity("1G") == 10**9
    assert parse_quantity("1136234735") == 1136234735
    assert format_quantity(96 * 2**20) == "96Mi" and format_quantity(1000) == "1000"
    with pytest.raises(ValueError):
        parse_quantity("12 bananas")
