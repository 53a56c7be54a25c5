"""The guest probe, run on this host: a regular file stands in for the disk.

PROBE_DEV_ROOT points at a temporary folder holding dev/disk/by-id/virtio-<serial>, the
same layout a guest (lab or real, with an empty root) gives. Everything here runs the
real script under dash, real dd/sha256sum and the real fio.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from suite.guest.pattern import pattern_bytes, pattern_sha256, zero_sha256
from suite.guest.probe import Probe, ProbeError, local_runner, parse_fields, script_path

MIB = 1 << 20


@pytest.fixture
def disk_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "dev/disk/by-id").mkdir(parents=True)
    image = tmp_path / "disk.img"
    with image.open("wb") as handle:
        handle.truncate(64 * MIB)
    (root / "dev/disk/by-id/virtio-d1").symlink_to(image)
    return root


@pytest.fixture
def probe(disk_root: Path, tmp_path: Path) -> Probe:
    runner = local_runner(disk_root, {"KVS_PROBE_STATE": str(tmp_path)})
    return Probe(runner, f"sh {script_path()}", timeout_s=60)


def image_of(root: Path) -> Path:
    return (root / "dev/disk/by-id/virtio-d1").resolve()


def test_script_is_posix_sh() -> None:
    for shell in ("sh", "dash"):
        if shutil.which(shell):
            done = subprocess.run([shell, "-n", str(script_path())], capture_output=True)
            assert done.returncode == 0, done.stderr


def test_write_puts_the_python_pattern_on_disk(probe: Probe, disk_root: Path) -> None:
    sha = probe.write("d1", MIB, 3 * MIB + 4096, "seedA")
    assert sha == pattern_sha256("seedA", MIB, 3 * MIB + 4096)
    data = image_of(disk_root).read_bytes()
    assert data[MIB : 4 * MIB + 4096] == pattern_bytes("seedA", MIB, 3 * MIB + 4096)
    assert data[:MIB] == bytes(MIB)  # nothing written outside the range


def test_checksum_reads_back_and_sees_corruption(probe: Probe, disk_root: Path) -> None:
    written = probe.write("d1", 0, 2 * MIB, "s1")
    assert probe.checksum("d1", 0, 2 * MIB) == written
    with image_of(disk_root).open("r+b") as handle:
        handle.seek(MIB + 17)
        handle.write(b"X")
    assert probe.checksum("d1", 0, 2 * MIB) != written
    assert probe.checksum("d1", 8 * MIB, MIB) == zero_sha256(MIB)


def test_seeds_give_different_patterns(probe: Probe) -> None:
    assert probe.write("d1", 0, MIB, "a") != probe.write("d1", 0, MIB, "b")


def test_size_of_a_regular_file_disk(probe: Probe) -> None:
    assert probe.size("d1") == 64 * MIB


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("checksum", "nope", 0, 512), 3, "virtio-nope not found"),
        (("write", "d1", 0, 512 * 3 + 1, "s"), 2, "multiple of 512"),
        (("write", "d1", 63 * MIB, 2 * MIB, "s"), 5, "beyond the end of the disk"),
        (("write", "d1", 0, 512, "bad seed"), 2, "may only hold"),
        (("frobnicate",), 2, "usage"),
        (("size",), 2, "size expects"),
    ],
)
def test_errors_are_one_line_with_an_exit_code(probe: Probe, args: tuple, code: int,
                                               words: str) -> None:
    with pytest.raises(ProbeError) as caught:
        probe.call(*args)
    assert caught.value.code == code
    assert words in caught.value.reason
    assert "\n" not in caught.value.reason


def test_has_reports_present_and_missing_tools(probe: Probe) -> None:
    assert probe.has("sha256sum")
    assert not probe.has("no-such-tool-kvs")


def test_fio_runs_the_job_on_the_disk(probe: Probe, disk_root: Path) -> None:
    job = ("[global]\nfilename=@DEVICE@\ndirect=1\nsize=4M\nioengine=psync\n"
           "[r]\nrw=randread\nbs=4k\nio_size=1M\n")
    report = json.loads(probe.fio("d1", job, timeout_s=60))
    assert report["jobs"][0]["read"]["total_ios"] == 256
    assert report["global options"]["filename"].endswith("virtio-d1")


def test_fio_missing_gives_127(disk_root: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "dd", "base64", "sed", "mktemp", "rm", "cat", "tail", "stat", "grep"):
        (bin_dir / tool).symlink_to(shutil.which(tool) or f"/bin/{tool}")
    runner = local_runner(disk_root, {"PATH": str(bin_dir)})
    probe = Probe(runner, f"sh {script_path()}")
    with pytest.raises(ProbeError) as caught:
        probe.fio("d1", "[x]\nrw=read\n", timeout_s=30)
    assert caught.value.code == 127
    assert caught.value.reason == "fio: not found"


def test_marker_write_fills_the_range(probe: Probe, disk_root: Path) -> None:
    sha = probe.marker_write("d1", MIB, MIB, "KVSMARK42")
    data = image_of(disk_root).read_bytes()[MIB : 2 * MIB]
    assert data.count(b"KVSMARK42\n") == MIB // 10
    assert sha == hashlib.sha256(data).hexdigest()


def test_loop_writer_is_verified_block_by_block(probe: Probe, disk_root: Path) -> None:
    probe.loop_write("d1", 4 * MIB, 10000, "loop1")
    try:
        state = probe.loop_status("d1")
        assert state.running
    finally:
        stopped = probe.loop_stop("d1")
    assert not stopped.running and stopped.written > 0
    probe.loop_verify("d1", 4 * MIB, stopped.written, "loop1")
    with pytest.raises(ProbeError, match="block 0 of"):
        probe.loop_verify("d1", 4 * MIB, stopped.written, "other-seed")
    with image_of(disk_root).open("r+b") as handle:
        handle.seek(4 * MIB + 4096 * (stopped.written - 1) + 100)
        handle.write(b"!")
    with pytest.raises(ProbeError, match=f"block {stopped.written - 1} of"):
        probe.loop_verify("d1", 4 * MIB, stopped.written, "loop1")


def test_loop_stop_without_a_writer_is_a_clean_error(probe: Probe) -> None:
    with pytest.raises(ProbeError, match="no loop writer"):
        probe.loop_stop("d1")


def test_parse_fields() -> None:
    assert parse_fields("sha256=ab bytes=4 junk") == {"sha256": "ab", "bytes": "4"}


def test_probe_does_not_depend_on_the_callers_directory(disk_root: Path, tmp_path: Path
                                                        ) -> None:
    env = {**os.environ, "PROBE_DEV_ROOT": str(disk_root)}
    done = subprocess.run(["sh", str(script_path()), "size", "d1"], cwd="/", env=env,
                          capture_output=True, text=True)
    assert done.stdout.strip() == f"bytes={64 * MIB}"
