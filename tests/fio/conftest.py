"""Real fio output, produced once per session by the installed fio on a temp file.

Runs are short (1 s per job) so the whole folder stays within a few seconds of
fio time; every figure the tests check comes from these real runs.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from suite.fio.jobs import parse_job_set
from suite.fio.local import local_execute
from suite.fio.result import PerfResult
from suite.fio.runner import run_job_set

AREA = 16 * 1024 * 1024


@pytest.fixture(scope="session")
def fio_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("fio")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)  # tens of MiB of test areas and logs


@pytest.fixture(scope="session")
def raw_fio(fio_dir: Path) -> Callable[[str], str]:
    """Run an INI job file (FILE is replaced by a prefilled 16 MiB file) and return stdout."""
    target = fio_dir / "raw.dat"
    target.write_bytes(b"\x5a" * AREA)

    def run(text: str) -> str:
        job = fio_dir / "raw.fio"
        job.write_text(text.replace("FILE", str(target)))
        done = subprocess.run(["fio", "--output-format=json+", str(job)],
                              capture_output=True, text=True, check=False, timeout=60)
        return done.stdout
    return run


@pytest.fixture(scope="session")
def qd1_result(fio_dir: Path) -> Iterator[PerfResult]:
    """Two repeats of QD1 read, fdatasync write and a 70/30 mix through run_job_set."""
    jobs = parse_job_set({"jobs": [
        {"name": "lat-randread", "rw": "randread", "bs": "4k", "runtime_s": 1},
        {"name": "fsync-write", "rw": "write", "bs": "4k", "ioengine": "sync",
         "fdatasync": 1, "runtime_s": 1},
        {"name": "mix", "rw": "randrw", "bs": "8k", "rwmixread": 70, "iodepth": 4,
         "runtime_s": 1},
    ]}, "tests/fio/conftest.py")
    yield run_job_set(local_execute(fio_dir / "dev.dat"), jobs, size_bytes=AREA, repeats=2)
