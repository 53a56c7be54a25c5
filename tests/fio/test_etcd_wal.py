"""etcd's WAL pattern: 2300-byte writes, fdatasync after each, QD1, and the figure the
`etcd-like` workload judges is the fdatasync latency (fio's `sync.lat_ns`), never the
write latency.

`data/fio-3.3x.etcd-wal.json` is one real run of the built-in job
(`data/make_etcd_fixture.py`); one more test runs the job here on a temp file.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from suite.fio.errors import JobSetError
from suite.fio.jobfile import render_job_file
from suite.fio.jobs import parse_job_set
from suite.fio.local import local_execute
from suite.fio.parse import parse_output
from suite.fio.runner import run_job_set
from suite.workloads.judging import fio_value, judge, matches
from suite.workloads.loading import load_builtin

DATA = Path(__file__).parent / "data"
AREA = 16 * 1024 * 1024
PATH = "tests/fio/test_etcd_wal.py"


def _etcd_job() -> Any:
    (job,) = [j for j in parse_job_set("assessment", PATH) if j.name == "etcd-wal"]
    return job


def _etcd_workload() -> Any:
    return next(w for w in load_builtin() if w.name == "etcd-like")


def _raw_job() -> dict[str, Any]:
    doc = json.loads((DATA / "fio-3.3x.etcd-wal.json").read_text())
    return next(j for j in doc["jobs"] if j["jobname"] == "etcd-wal")


def test_the_builtin_job_is_etcds_fio_check() -> None:
    job = _etcd_job()
    assert (job.rw, job.bs, job.ioengine, job.fdatasync, job.outstanding, job.direct) == (
        "write", 2300, "sync", 1, 1, 0)
    lines = render_job_file([job], size_bytes=AREA, prefill=True).split("[etcd-wal]")[1]
    assert {"rw=write", "bs=2300", "ioengine=sync", "fdatasync=1", "direct=0"} <= set(
        lines.split())
    assert "etcd-wal" in {j.name for j in parse_job_set("full", PATH)}
    (figure,) = _etcd_workload().figures
    assert figure.metric == "syncLatencyUs.p99"
    assert matches(figure.job, job.options())
    assert not any(matches(figure.job, j.options()) for j in parse_job_set("assessment", PATH)
                   if j.name != "etcd-wal")  # the 4k fsync-write job no longer stands in


def test_the_parser_reads_fdatasync_latency_from_the_sync_section() -> None:
    raw = _raw_job()
    parsed = parse_output((DATA / "fio-3.3x.etcd-wal.json").read_text()).job("etcd-wal")
    sync, write = parsed.dirs["sync"].lat, parsed.dirs["write"].lat
    assert sync is not None and write is not None
    assert sync.percentiles[99.0] == raw["sync"]["lat_ns"]["percentile"]["99.000000"]
    assert write.percentiles[99.0] == raw["write"]["lat_ns"]["percentile"]["99.000000"]
    assert sync.percentiles[99.0] != write.percentiles[99.0]
    assert sync.n == raw["sync"]["lat_ns"]["N"] and sync.n >= raw["write"]["total_ios"] - 1


def _replayed_entry() -> dict[str, Any]:
    text = (DATA / "fio-3.3x.etcd-wal.json").read_text()
    job = replace(_etcd_job(), runtime_s=1, ramp_s=0)
    result = run_job_set(lambda _job_file: text, [job], size_bytes=AREA)
    (entry,) = result.matrix_entries()
    return entry


def test_the_workload_judges_the_fdatasync_p99_not_the_write_p99() -> None:
    raw = _raw_job()
    sync_p99_us = raw["sync"]["lat_ns"]["percentile"]["99.000000"] / 1000
    write_p99_us = raw["write"]["lat_ns"]["percentile"]["99.000000"] / 1000
    entry = _replayed_entry()
    assert entry["syncLatencyUs"]["p99"] == pytest.approx(sync_p99_us, abs=0.001)
    assert entry["writeLatencyUs"]["p99"] == pytest.approx(write_p99_us, abs=0.001)
    assert fio_value("syncLatencyUs.p99", entry) == pytest.approx(sync_p99_us, abs=0.001)
    card = judge(_etcd_workload(), {"performance": {"fio": [entry]}})
    (figure,) = card["figures"]
    assert figure["value"] == pytest.approx(sync_p99_us, abs=0.001)
    assert figure["value"] != pytest.approx(write_p99_us, abs=0.001)
    expected = "fit" if sync_p99_us <= 5000 else "marginal" if sync_p99_us <= 10000 else "unfit"
    assert card["fitness"] == expected


def test_a_4k_fdatasync_job_does_not_count_as_etcd() -> None:
    four_k = {**_replayed_entry(), "options": {**_etcd_job().options(), "bs": 4096}}
    card = judge(_etcd_workload(), {"performance": {"fio": [four_k]}})
    assert card["fitness"] == "not-assessed"
    assert card["figures"][0]["missing"].startswith("no fio job with")


@pytest.mark.slow
def test_the_job_runs_for_real_on_a_file(tmp_path: Path) -> None:
    job = replace(_etcd_job(), runtime_s=1, ramp_s=0)
    result = run_job_set(local_execute(tmp_path / "dev.dat"), [job], size_bytes=AREA)
    (entry,) = result.matrix_entries()
    run_job = result.runs[0].job("etcd-wal")
    assert run_job.options["direct"] == "0" and run_job.options["bs"] == "2300"
    assert entry["syncLatencyUs"]["p99"] > 0 and entry["writeIops"] > 0
    # every write was followed by one fdatasync
    assert abs(run_job.dirs["sync"].lat.n - run_job.dirs["write"].total_ios) <= 1


@pytest.mark.parametrize(("entry", "where"), [
    ({"name": "x", "rw": "randread", "bs": 2300, "direct": 0}, "fio.jobs[0].direct"),
    ({"name": "x", "rw": "write", "bs": 2300, "direct": 0}, "fio.jobs[0].direct"),
    ({"name": "x", "rw": "write", "bs": 2300, "fdatasync": 1}, "fio.jobs[0].bs"),
])
def test_buffered_io_only_for_fdatasynced_writes(entry: dict, where: str) -> None:
    with pytest.raises(JobSetError) as caught:
        parse_job_set({"jobs": [entry]}, PATH)
    assert str(caught.value).startswith(f"{PATH}: {where}: ")
