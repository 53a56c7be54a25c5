"""Pure logic of the data plane: sizes, throttle options, sparse ranges, escaping."""

from __future__ import annotations

from pathlib import Path

import pytest
from dphelpers import MiB

from suite.lab.dataplane import images
from suite.lab.dataplane.daemon import throttle_options
from suite.lab.dataplane.images import ImageRef, data_ranges, escape, export_size_for
from suite.lab.dataplane.mounts import _decode

GiB = 1 << 30


@pytest.mark.parametrize(("capacity", "available", "expected"), [
    (GiB, GiB, 967 * MiB),  # 0.945 GiB = 967.68 MiB, rounded down to 1 MiB
    (GiB, 900 * MiB, 850 * MiB),  # 0.945 x 900 MiB = 850.5 MiB
    (10 * GiB, 11 * GiB, 9676 * MiB),  # never more than the capacity
])
def test_disk_img_follows_kubevirt_rule(monkeypatch: pytest.MonkeyPatch, capacity: int,
                                        available: int, expected: int) -> None:
    monkeypatch.setattr(images, "ext4_available", lambda _capacity: available)
    assert export_size_for(capacity, "Filesystem", 0.055) == expected
    assert export_size_for(capacity, "Block", 0.055) == capacity


@pytest.mark.parametrize("capacity", [64 * MiB, GiB])
def test_a_fresh_ext4_offers_less_than_its_size(capacity: int) -> None:
    available = images.ext4_available(capacity)
    assert 0.75 * capacity < available <= capacity - 2 * MiB  # journal, inode tables


def test_throttle_options_from_driver_limits() -> None:
    assert throttle_options(None) == ""
    assert throttle_options({"iops": 2000}) == "x-iops-total=2000"
    assert throttle_options({"iops": 2000, "bandwidthMiBs": 200}) == \
        f"x-iops-total=2000,x-bps-total={200 * MiB}"


def test_qemu_option_values_double_their_commas() -> None:
    assert escape("/a,b/c") == "/a,,b/c"
    ref = ImageRef(Path("/x,y"), b"k", 4096)
    assert ref.opts("sec0") == "driver=luks,key-secret=sec0,file.driver=file,file.filename=/x,,y"
    assert ref.opts("sec0", (0, MiB)).startswith(f"driver=raw,offset=0,size={MiB},file.driver=luks")


def test_data_ranges_skip_holes_and_merge_near_extents(tmp_path: Path) -> None:
    image = tmp_path / "image"
    header = 8192
    with open(image, "wb") as out:
        out.write(b"H" * header)
        for offset in (MiB, 2 * MiB, 40 * MiB):  # the first two are close: one range
            out.seek(header + offset)
            out.write(b"d" * 4096)
        out.truncate(header + 64 * MiB)
    ranges = data_ranges(ImageRef(image, b"k", header), 64 * MiB)
    assert ranges == [(MiB, MiB + 4096), (40 * MiB, 4096)]


def test_proc_mounts_escapes_are_decoded() -> None:
    assert _decode(r"/tmp/with\040space") == "/tmp/with space"


def test_a_class_volume_graph_over_qmp_keeps_the_key_in_one_short_lived_secret() -> None:
    from suite.lab.dataplane.classdaemon import GROUP, SlotNames, graph_commands
    from suite.lab.dataplane.daemon import DaemonConfig
    from suite.lab.dataplane.images import ImageRef

    folder = Path("/state/volumes/v")
    names = SlotNames("v123456")
    luks = DaemonConfig("v", ImageRef(folder / "disk.raw", b"k3y"), folder / "export", folder)
    commands = graph_commands(luks, names)
    assert [c for c, _ in commands] == ["object-add", "blockdev-add", "blockdev-add",
                                        "object-del", "blockdev-add", "block-export-add"]
    assert commands[0][1] == {"qom-type": "secret", "id": names.secret, "data": "azN5",
                              "format": "base64"}  # base64 of b"k3y"
    assert commands[2][1]["driver"] == "luks" and commands[2][1]["key-secret"] == names.secret
    assert "k3y" not in str(commands[1:]) and "azN5" not in str(commands[1:])
    assert commands[4][1]["throttle-group"] == GROUP
    assert commands[5][1]["node-name"] == names.throttle
    assert commands[5][1]["mountpoint"] == str(folder / "export")
    assert commands[1][1]["cache"] == {"direct": True}  # O_DIRECT, as the per-volume daemon
    plain = graph_commands(DaemonConfig("v", ImageRef(folder / "disk.raw"), folder / "export",
                                        folder), names)
    assert [c for c, _ in plain] == ["blockdev-add"] * 3 + ["block-export-add"]
    assert plain[1][1]["driver"] == "raw"
    # QEMU node names hold at most 31 bytes
    assert max(len(n) for n in (names.file, names.format, names.throttle, names.export)) <= 31
