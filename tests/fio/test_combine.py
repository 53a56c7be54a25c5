"""Two fio runs at the same time on two files, combined as two VMs on one class."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from suite.fio.combine import combine_concurrent
from suite.fio.errors import FioOutputError
from suite.fio.jobs import parse_job_set
from suite.fio.local import local_execute
from suite.fio.merge import io_latency
from suite.fio.result import PerfResult
from suite.fio.runner import run_job_set


@pytest.fixture(scope="module")
def two_vms(fio_dir: Path) -> list[PerfResult]:
    jobs = parse_job_set([{"name": "qd1", "rw": "randread", "bs": "4k", "runtime_s": 1}], "t")
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(run_job_set, local_execute(fio_dir / f"vm{i}.dat"), jobs,
                               size_bytes=8 << 20) for i in range(2)]
        return [f.result() for f in futures]


@pytest.mark.slow
def test_concurrent_vms_add_rates_and_histograms(two_vms: list[PerfResult]) -> None:
    combined = combine_concurrent(two_vms)
    parts = [r.figures[0].merged.dirs["read"] for r in two_vms]
    total = combined.figures[0].merged.dirs["read"]
    assert total.iops == pytest.approx(sum(p.iops for p in parts))
    assert total.total_ios == sum(p.total_ios for p in parts)
    lat = io_latency(combined.figures[0].merged)
    assert lat is not None and lat.n == sum(p.lat.n for p in parts if p.lat)
    assert sum(lat.bins.values()) == lat.n
    check = combined.figures[0].validity["littlesLaw"]
    assert "configured 2" in check["detail"] and "x 2 VMs" in check["detail"]
    assert combined.figures[0].validity["prefill"]["ok"] is True
    entry = combined.matrix_entries()[0]
    assert entry["readIops"] == pytest.approx(sum(r.matrix_entries()[0]["readIops"]
                                                  for r in two_vms), rel=1e-3)


def test_unlike_results_are_refused(two_vms: list[PerfResult], fio_dir: Path) -> None:
    other = PerfResult(jobs=[], runs=[], figures=[], size_bytes=0)
    with pytest.raises(FioOutputError, match="same jobs"):
        combine_concurrent([two_vms[0], other])
