"""Volumes as consumers meet them: real bytes through the FUSE export, real LUKS, real
throttling and resizes, the node view, and a shutdown that leaves nothing behind."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from dphelpers import KEY, MiB, Plane, contains, pid_running, read_at, size_by_seek, write_at

from suite.lab.dataplane import DataPlaneError
from suite.lab.dataplane.images import ext4_available
from suite.lab.dataplane.mounts import is_mounted, mounts_under

GiB = 1 << 30


def test_bytes_written_through_the_export_are_read_back_and_stored(plane: Plane) -> None:
    export = plane.run(plane.dp.create_volume("vol-a", 64 * MiB, volume_mode="Block"))
    payload = os.urandom(MiB)
    write_at(export, 5 * MiB, payload)
    assert read_at(export, 5 * MiB, MiB) == payload
    disk = plane.state_dir / "volumes" / "vol-a" / "disk.raw"
    assert read_at(disk, 5 * MiB, MiB) == payload  # plaintext class: stored as written


def test_a_large_volume_costs_nothing_until_written(plane: Plane) -> None:
    export = plane.run(plane.dp.create_volume("big", 10 * GiB, volume_mode="Block"))
    disk = plane.state_dir / "volumes" / "big" / "disk.raw"
    assert size_by_seek(export) == 10 * GiB
    assert disk.stat().st_blocks * 512 < MiB


def test_filesystem_volume_exports_disk_img_minus_overhead(plane: Plane) -> None:
    export = plane.run(plane.dp.create_volume("fsvol", GiB, volume_mode="Filesystem"))
    assert export == plane.state_dir / "volumes" / "fsvol" / "fs" / "disk.img"
    expected = int(0.945 * ext4_available(GiB)) // MiB * MiB  # KubeVirt's disk.img rule
    assert export.stat().st_size == expected < int(GiB * 0.945)
    assert plane.run(plane.dp.volume_size("fsvol")) == GiB


def test_luks_volume_never_stores_plaintext(plane: Plane) -> None:
    export = plane.run(plane.dp.create_volume("enc", 32 * MiB, volume_mode="Block",
                                              encrypt=True, key=KEY))
    marker = b"PLAINTEXT-MARKER-" * 64
    write_at(export, 3 * MiB, marker)
    assert read_at(export, 3 * MiB, len(marker)) == marker
    disk = plane.state_dir / "volumes" / "enc" / "disk.raw"
    assert disk.read_bytes()[:6] == b"LUKS\xba\xbe"
    assert not contains(disk, b"PLAINTEXT-MARKER-")
    meta = json.loads((disk.parent / "volume.json").read_text())
    assert meta["storedEncrypted"] is True and "key" not in json.dumps(meta).lower()


def test_pretend_encrypted_stores_plaintext_but_looks_encrypted(plane: Plane) -> None:
    dp = plane.dp
    export = plane.run(dp.create_volume("liar", 32 * MiB, volume_mode="Block", encrypt=True,
                                        key=KEY, pretend_encrypted=True))
    write_at(export, MiB, b"PLAINTEXT-MARKER-")
    disk = plane.state_dir / "volumes" / "liar" / "disk.raw"
    assert contains(disk, b"PLAINTEXT-MARKER-")
    device = plane.run(dp.attach("liar", "node-1"))
    assert device.device_path.name == "luks-liar" and device.dm_name == "dm-0"
    assert read_at(device.raw_path, MiB, 17) == b"PLAINTEXT-MARKER-"


def test_resize_is_seen_at_once_by_an_open_consumer(plane: Plane) -> None:
    dp = plane.dp
    export = plane.run(dp.create_volume("grow", 64 * MiB, volume_mode="Block", encrypt=True,
                                        key=KEY, limits={"iops": 5000}))
    held = os.open(export, os.O_RDONLY)
    try:
        plane.run(dp.resize("grow", 128 * MiB))
        assert os.fstat(held).st_size == 128 * MiB
        assert size_by_seek(export) == 128 * MiB
        write_at(export, 127 * MiB, b"tail")  # the new space is usable
        assert read_at(export, 127 * MiB, 4) == b"tail"
    finally:
        os.close(held)
    with pytest.raises(DataPlaneError, match="cannot shrink"):
        plane.run(dp.resize("grow", 64 * MiB))


def test_filesystem_resize_grows_disk_img_by_the_overhead_rule(plane: Plane) -> None:
    export = plane.run(plane.dp.create_volume("fsgrow", GiB, volume_mode="Filesystem"))
    before = size_by_seek(export)
    plane.run(plane.dp.resize("fsgrow", 2 * GiB))
    grown = size_by_seek(export)
    assert grown == int(0.945 * ext4_available(2 * GiB)) // MiB * MiB
    assert 0.8 * GiB < grown - before < 0.945 * GiB  # ext4 keeps its share of the new space


def test_invisible_expansion_shows_only_after_the_next_attach(plane: Plane) -> None:
    dp = plane.dp
    export = plane.run(dp.create_volume("stale", 64 * MiB, volume_mode="Block"))
    plane.run(dp.resize("stale", 96 * MiB, visible_to_consumers=False))
    time.sleep(1.2)  # past the kernel's FUSE attribute cache, so this is not caching
    assert size_by_seek(export) == 64 * MiB and export.stat().st_size == 64 * MiB
    assert (plane.state_dir / "volumes" / "stale" / "disk.raw").stat().st_size == 96 * MiB
    assert plane.run(dp.volume_size("stale")) == 96 * MiB
    plane.run(dp.attach("stale", "node-1"))
    assert size_by_seek(export) == 96 * MiB


@pytest.mark.slow
def test_throttle_group_limits_iops(plane: Plane, tmp_path: Path) -> None:
    export = plane.run(plane.dp.create_volume("slow", 64 * MiB, volume_mode="Block",
                                              limits={"iops": 300}))
    result = subprocess.run(
        ["fio", "--name=qd1", f"--filename={export}", "--rw=randread", "--bs=4k",
         "--ioengine=psync", "--iodepth=1", "--direct=1", "--time_based", "--runtime=2",
         "--output-format=json"], capture_output=True, text=True, check=True)
    iops = json.loads(result.stdout)["jobs"][0]["read"]["iops"]
    assert 225 <= iops <= 375, f"measured {iops:.0f} IOPS under a 300 IOPS limit"


def test_node_view_of_an_encrypted_volume(plane: Plane) -> None:
    dp = plane.dp
    export = plane.run(dp.create_volume("pvc-1", 32 * MiB, volume_mode="Block",
                                        encrypt=True, key=KEY))
    plane.run(dp.create_volume("pvc-0", 16 * MiB, volume_mode="Block"))
    plain = plane.run(dp.attach("pvc-0", "node-1"))
    device = plane.run(dp.attach("pvc-1", "node-1"))
    root = plane.state_dir / "nodes" / "node-1"
    assert (device.disk_name, device.dm_name) == ("lab1", "dm-0")
    assert plain.raw_path == plain.device_path == root / "dev" / "lab0"
    assert os.readlink(root / "dev" / "lab1") == str(plane.state_dir / "volumes/pvc-1/disk.raw")
    assert plane.run(dp.raw_path("pvc-1", "node-1")) == root / "dev" / "lab1"
    assert plane.run(dp.device_path("pvc-1", "node-1")) == root / "dev/mapper/luks-pvc-1"
    assert os.readlink(root / "dev/mapper/luks-pvc-1") == str(export)
    dm = root / "sys/block/dm-0"
    assert (dm / "dm/name").read_text() == "luks-pvc-1\n"
    assert (dm / "dm/uuid").read_text().startswith("CRYPT-LUKS2-")
    assert (dm / "slaves/lab1").is_symlink()
    assert (dm / "size").read_text() == f"{32 * MiB // 512}\n"
    assert int((root / "sys/block/lab1/size").read_text()) > 32 * MiB // 512  # + LUKS header
    plane.run(dp.resize("pvc-1", 48 * MiB))
    assert (dm / "size").read_text() == f"{48 * MiB // 512}\n"
    plane.run(dp.detach("pvc-1", "node-1"))
    assert not (root / "dev/lab1").exists() and not dm.exists()
    assert not (root / "dev/mapper/luks-pvc-1").exists()
    with pytest.raises(DataPlaneError, match="not attached to node node-1"):
        plane.run(dp.device_path("pvc-1", "node-1"))


def test_several_nodes_may_attach_the_same_volume(plane: Plane) -> None:
    dp = plane.dp
    plane.run(dp.create_volume("rwx", 16 * MiB, volume_mode="Block"))
    one, two = plane.run(dp.attach("rwx", "node-1")), plane.run(dp.attach("rwx", "node-2"))
    write_at(one.device_path, 0, b"shared")
    assert read_at(two.device_path, 0, 6) == b"shared"
    assert plane.run(dp.attach("rwx", "node-1")) == one  # attach is idempotent


def test_delete_and_shutdown_leave_no_daemon_and_no_mount(plane: Plane) -> None:
    dp = plane.dp
    for i in range(3):
        plane.run(dp.create_volume(f"v{i}", 16 * MiB, volume_mode="Filesystem",
                                   encrypt=i == 2, key=KEY))
    plane.run(dp.attach("v1", "node-1"))
    pids = dp.daemon_pids()
    assert len(pids) == 3
    plane.run(dp.delete_volume("v0"))
    assert not (plane.state_dir / "volumes" / "v0").exists()
    plane.run(dp.delete_volume("v0"))  # deleting twice is fine
    plane.run(dp.shutdown())
    assert not [p for p in pids if pid_running(p)]
    assert mounts_under(plane.state_dir) == []
    assert not (plane.state_dir / "nodes/node-1/dev/lab0").exists()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"volume_mode": "Tape"}, "volume_mode must be Block or Filesystem"),
    ({"volume_mode": "Block", "encrypt": True}, "encryption needs a non-empty key"),
])
def test_bad_requests_are_one_line_errors(plane: Plane, kwargs: dict, message: str) -> None:
    with pytest.raises(DataPlaneError, match=message) as caught:
        plane.run(plane.dp.create_volume("bad", MiB, **kwargs))
    assert "\n" not in str(caught.value)
    with pytest.raises(DataPlaneError, match="invalid volume handle"):
        plane.run(plane.dp.create_volume("../escape", MiB, volume_mode="Block"))


def test_a_handle_is_provisioned_once(plane: Plane) -> None:
    plane.run(plane.dp.create_volume("once", MiB, volume_mode="Block"))
    with pytest.raises(DataPlaneError, match="volume once already exists"):
        plane.run(plane.dp.create_volume("once", MiB, volume_mode="Block"))


def test_many_volumes_are_created_at_once_and_kept_apart(plane: Plane) -> None:
    async def create_many() -> list[Path]:
        return list(await asyncio.gather(*(plane.dp.create_volume(
            f"c{i}", 16 * MiB, volume_mode=("Block", "Filesystem")[i % 2],
            encrypt=i % 3 == 0, key=KEY) for i in range(8))))

    exports = plane.run(create_many())
    assert len(set(exports)) == 8 and all(is_mounted(e) for e in exports)
    for i, export in enumerate(exports):
        write_at(export, MiB, f"volume {i}".encode())
    assert [read_at(e, MiB, 8) for e in exports] == [f"volume {i}".encode() for i in range(8)]
