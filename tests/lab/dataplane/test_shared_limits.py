"""A limited class's volumes share one daemon and one throttle group, as a real array's
class QoS is shared: real fio on real exports, and the volume life cycle (resize,
clone, delete, crash) inside the shared daemon."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from dphelpers import KEY, MiB, Plane, contains, pid_running, read_at, size_by_seek, write_at

from suite.lab.dataplane import DataPlaneError
from suite.lab.dataplane.mounts import is_mounted

LIMIT = 400
CLASS = {"limits": {"iops": LIMIT}, "limit_group": "lab-limited"}


def _fio(export: Path, runtime_s: int = 3) -> subprocess.Popen:
    return subprocess.Popen(
        ["fio", "--name=qd1", f"--filename={export}", "--rw=randread", "--bs=4k",
         "--ioengine=psync", "--iodepth=1", "--direct=1", "--time_based",
         f"--runtime={runtime_s}", "--output-format=json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _iops(proc: subprocess.Popen) -> float:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return float(json.loads(out)["jobs"][0]["read"]["iops"])


@pytest.mark.slow
def test_two_volumes_of_a_class_share_its_iops(plane: Plane) -> None:
    dp = plane.dp
    one = plane.run(dp.create_volume("one", 64 * MiB, volume_mode="Block", **CLASS))
    two = plane.run(dp.create_volume("two", 64 * MiB, volume_mode="Block", **CLASS))
    alone = plane.run(dp.create_volume("alone", 64 * MiB, volume_mode="Block",
                                       limits={"iops": LIMIT}))
    assert len(dp.daemon_pids()) == 2  # the class's daemon, and the ungrouped volume's
    single = _iops(_fio(one))
    assert 0.75 * LIMIT <= single <= 1.25 * LIMIT, f"one volume alone: {single:.0f} IOPS"
    runs = [_fio(one), _fio(two), _fio(alone)]
    first, second, apart = (_iops(r) for r in runs)
    together = first + second
    assert 0.75 * LIMIT <= together <= 1.25 * LIMIT, \
        f"two volumes of a {LIMIT} IOPS class at once: {first:.0f} + {second:.0f} IOPS"
    assert min(first, second) >= 0.25 * LIMIT, (first, second)  # both get a share
    # a volume limited on its own keeps its whole limit while the class is busy
    assert 0.75 * LIMIT <= apart <= 1.25 * LIMIT, f"ungrouped volume: {apart:.0f} IOPS"


def test_resize_and_delete_leave_the_other_export_working(plane: Plane) -> None:
    dp = plane.dp
    keep = plane.run(dp.create_volume("keep", 16 * MiB, volume_mode="Block", **CLASS))
    grow = plane.run(dp.create_volume("grow", 16 * MiB, volume_mode="Block", encrypt=True,
                                      key=KEY, **CLASS))
    (pid,) = dp.daemon_pids()
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    assert KEY not in cmdline and b"secret" not in cmdline  # the key came over QMP
    write_at(keep, MiB, b"kept bytes")
    write_at(grow, MiB, b"secret bytes")
    plane.run(dp.resize("grow", 48 * MiB))
    assert size_by_seek(grow) == 48 * MiB and size_by_seek(keep) == 16 * MiB
    assert read_at(grow, MiB, 12) == b"secret bytes"
    assert not contains(plane.state_dir / "volumes/grow/disk.raw", b"secret bytes")
    plane.run(dp.delete_volume("grow"))
    assert not is_mounted(grow) and not (plane.state_dir / "volumes/grow").exists()
    assert read_at(keep, MiB, 10) == b"kept bytes"
    write_at(keep, 2 * MiB, b"still writable")
    assert read_at(keep, 2 * MiB, 14) == b"still writable"
    assert dp.daemon_pids() == [pid]
    plane.run(dp.delete_volume("keep"))
    assert not is_mounted(keep)
    assert not pid_running(pid), "the class's daemon quits with its last volume"


def test_snapshot_restore_and_clone_inside_the_class(plane: Plane) -> None:
    dp = plane.dp
    source = plane.run(dp.create_volume("src", 16 * MiB, volume_mode="Block", **CLASS))
    write_at(source, 0, b"golden image")
    plane.run(dp.snapshot("src", "snap-1"))
    restored = plane.run(dp.restore("snap-1", "restored", 16 * MiB, volume_mode="Block",
                                    **CLASS))
    plane.run(dp.create_volume("clone", 16 * MiB, volume_mode="Block", **CLASS))
    plane.run(dp.populate_from_volume("clone", "src"))
    clone = plane.run(dp.export_path("clone"))
    assert read_at(restored, 0, 12) == read_at(clone, 0, 12) == b"golden image"
    write_at(clone, 0, b"changed")
    assert read_at(source, 0, 12) == b"golden image"
    assert len(dp.daemon_pids()) == 1


def test_a_crashed_class_daemon_comes_back_with_its_volumes(plane: Plane) -> None:
    dp = plane.dp
    first = plane.run(dp.create_volume("first", 16 * MiB, volume_mode="Block", **CLASS))
    write_at(first, 0, b"before the crash")
    os.fsync(os.open(first, os.O_RDONLY))
    (pid,) = dp.daemon_pids()
    os.kill(pid, signal.SIGKILL)  # the daemon this test's plane started
    plane.run(dp.create_volume("second", 16 * MiB, volume_mode="Block", **CLASS))
    (new_pid,) = dp.daemon_pids()
    assert new_pid != pid
    assert read_at(first, 0, 16) == b"before the crash"  # re-added by the new daemon


def test_a_class_keeps_one_set_of_limits(plane: Plane) -> None:
    plane.run(plane.dp.create_volume("a", MiB, volume_mode="Block", **CLASS))
    with pytest.raises(DataPlaneError, match=r"class lab-limited: limits .* differ"):
        plane.run(plane.dp.create_volume("b", MiB, volume_mode="Block",
                                         limits={"iops": 10}, limit_group="lab-limited"))
    with pytest.raises(DataPlaneError, match="invalid limit group"):
        plane.run(plane.dp.create_volume("c", MiB, volume_mode="Block",
                                         limits={"iops": 10}, limit_group="../x"))
