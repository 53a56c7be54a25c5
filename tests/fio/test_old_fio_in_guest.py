"""A guest whose fio is 2.x: refused in one line through the probe and the perf path.

fio 2.x never prints JSON for the suite's job files: it does not know
`lat_percentiles` (fio 3.1) and dies while parsing the job file (axboe/fio 2.17
`options.c`: "Bad option <...>", then init.c drops the job). No fio 2.x can be
installed here, so a tiny stand-in answers `--version` and fails on that option as
fio 2.17 does; everything else is the real probe script, the real job file and the
perf family's own execute path.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from suite.checks import perf
from suite.checks.base import ClassContext
from suite.config.profile import parse_profile
from suite.fio.errors import FioUnavailable, FioUnsupportedVersion
from suite.fio.jobs import parse_job_set
from suite.fio.runner import run_job_set
from suite.guest.probe import Probe, ProbeError, local_runner, script_path

FIO_2 = """#!/bin/sh
if [ "$1" = "--version" ]; then echo "fio-2.17"; exit 0; fi
for arg; do job="$arg"; done
if grep -q '^lat_percentiles' "$job"; then
    echo "Bad option <lat_percentiles=1>" >&2
    echo "fio: job global dropped" >&2
    exit 1
fi
echo "fio-2.17 would run here" >&2
exit 1
"""
JOBS = parse_job_set({"jobs": [{"name": "lat-randread", "rw": "randread", "bs": "4k",
                                "runtime_s": 1}]}, "tests/fio/test_old_fio_in_guest.py")


@pytest.fixture
def old_fio_probe(tmp_path: Path) -> Probe:
    root = tmp_path / "root"
    (root / "dev/disk/by-id").mkdir(parents=True)
    image = tmp_path / "disk.img"
    image.write_bytes(b"\0" * (4 << 20))
    (root / "dev/disk/by-id/virtio-d1").symlink_to(image)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "dd", "base64", "sed", "mktemp", "rm", "cat", "tail", "head", "stat",
                 "grep"):
        (bin_dir / tool).symlink_to(shutil.which(tool) or f"/bin/{tool}")
    (bin_dir / "fio").write_text(FIO_2)
    (bin_dir / "fio").chmod(0o755)
    runner = local_runner(root, {"PATH": str(bin_dir), "KVS_PROBE_STATE": str(tmp_path)})
    return Probe(runner, f"sh {script_path()}", timeout_s=60)


def test_the_probe_names_the_fio_version_when_fio_fails(old_fio_probe: Probe) -> None:
    with pytest.raises(ProbeError) as caught:
        old_fio_probe.fio("d1", "[global]\nlat_percentiles=1\n[x]\nrw=read\n", timeout_s=30)
    assert caught.value.code == 8
    assert "fio-2.17" in caught.value.reason and "job global dropped" in caught.value.reason


def test_the_perf_path_turns_an_old_fio_into_one_line_with_the_fix(old_fio_probe: Probe) -> None:
    ctx = ClassContext(kube=None, namespace="ns", storage_class="sc",  # type: ignore[arg-type]
                       facts={}, profile=parse_profile({"name": "t"}, "t.yaml"), run_id="r")
    vm, disk = SimpleNamespace(probe=old_fio_probe), SimpleNamespace(serial="d1")
    with pytest.raises(FioUnsupportedVersion) as caught:
        run_job_set(lambda text: perf._execute(ctx, vm, disk, text),  # type: ignore[arg-type]
                    JOBS, size_bytes=2 << 20)
    message = str(caught.value)
    assert isinstance(caught.value, FioUnavailable)  # perf.assess: inconclusive at once
    assert "\n" not in message and "fio-2.17" in message and "3.1 or newer" in message
