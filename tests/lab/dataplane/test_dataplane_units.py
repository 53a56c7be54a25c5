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
