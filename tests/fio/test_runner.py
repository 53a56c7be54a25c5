"""run_job_set end to end with the real fio on a temp file, and what it records."""

from __future__ import annotations

import subprocess
from dataclasses import replace

import pytest

from suite.fio.errors import FioUnavailable
from suite.fio.jobs import parse_job_set
from suite.fio.local import local_execute
from suite.fio.merge import io_latency
from suite.fio.result import PerfResult
from suite.fio.runner import run_job_set
from suite.fio.validity import (
    in_flight,
    latency_floor_check,
    littles_law_check,
    prefill_check,
)


def _figure(result: PerfResult, name: str):  # type: ignore[no-untyped-def]
    return next(f for f in result.figures if f.job.name == name)


@pytest.mark.slow
def test_littles_law_holds_on_a_qd1_run(qd1_result: PerfResult) -> None:
    figure = _figure(qd1_result, "lat-randread")
    assert in_flight(figure.job, figure.merged) == pytest.approx(1.0, rel=0.15)
    assert figure.validity["littlesLaw"]["ok"] is True
    fsync = _figure(qd1_result, "fsync-write")
    # The flush time belongs to each write's time in the system.
    assert in_flight(fsync.job, fsync.merged) == pytest.approx(1.0, rel=0.15)


@pytest.mark.slow
def test_matrix_entries_follow_the_design_shape(qd1_result: PerfResult) -> None:
    version = subprocess.run(["fio", "--version"], capture_output=True, text=True).stdout.strip()
    entries = {e["job"]: e for e in qd1_result.matrix_entries()}
    assert list(entries) == ["lat-randread", "fsync-write", "mix"]
    for entry in entries.values():
        assert {"readIops", "writeIops", "readBwMiBs", "writeBwMiBs", "latencyUs",
                "validity", "fioVersion", "options"} <= set(entry)
        assert {"p50", "p90", "p99", "p99.9", "p99.99", "max"} <= set(entry["latencyUs"])
        assert entry["fioVersion"] == version and entry["repeats"] == 2
        lat = entry["latencyUs"]
        assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99.9"] <= lat["p99.99"]
    assert entries["lat-randread"]["readIops"] > 0 and entries["lat-randread"]["writeIops"] == 0
    assert "syncLatencyUs" in entries["fsync-write"]
    assert entries["mix"]["readIops"] > entries["mix"]["writeIops"] > 0
    assert entries["mix"]["options"]["rwmixread"] == 70


@pytest.mark.slow
def test_repeats_merge_by_summing_bins(qd1_result: PerfResult) -> None:
    figure = _figure(qd1_result, "mix")
    merged = io_latency(figure.merged)
    parts = [io_latency(r) for r in figure.repeats]
    assert merged is not None and all(parts)
    assert merged.n == sum(p.n for p in parts if p)
    assert sum(merged.bins.values()) == merged.n
    weighted = sum(p.n * p.mean_ns for p in parts if p) / merged.n
    assert merged.mean_ns == pytest.approx(weighted)
    # a 70/30 job's headline latency covers every read and write
    reads, writes = figure.merged.dirs["read"].lat, figure.merged.dirs["write"].lat
    assert reads is not None and writes is not None and merged.n == reads.n + writes.n


def test_validity_is_recorded_beside_every_figure(qd1_result: PerfResult) -> None:
    for figure in qd1_result.figures:
        assert set(figure.validity) == {"prefill", "health", "littlesLaw", "latencyFloor",
                                        "repeatSpread"}
        assert figure.validity["prefill"]["ok"] is True
        assert figure.validity["health"]["ok"] is True
        assert figure.validity["repeatSpread"]["ok"] is not None
        assert "CoV" in figure.validity["repeatSpread"]["detail"]
    read = _figure(qd1_result, "lat-randread")
    assert latency_floor_check(read.job, read.merged)["ok"] is True
    flagged = latency_floor_check(read.job, read.merged, {"read": 1e9})
    assert flagged["ok"] is False and "cache" in flagged["detail"]
    assert prefill_check(read.job, None, qd1_result.size_bytes)["ok"] is False


def test_csv_rows_one_per_job_and_repeat(qd1_result: PerfResult) -> None:
    rows = qd1_result.csv_rows("lab-fast")
    assert [(r["job"], r["repeat"]) for r in rows] == [
        ("lat-randread", 1), ("lat-randread", 2), ("fsync-write", 1), ("fsync-write", 2),
        ("mix", 1), ("mix", 2)]
    assert all(r["storageClass"] == "lab-fast" and r["fioVersion"].startswith("fio-")
               for r in rows)
    assert '"iodepth": 4' in rows[-1]["options"] and '"direct": "1"' in rows[-1]["fioOptions"]
    assert rows[2]["sync_p99_us"] > 0 and rows[0]["sync_p99_us"] is None


def test_only_the_first_repeat_prefills(qd1_result: PerfResult) -> None:
    assert "[prefill]" in qd1_result.job_files[0] and "[prefill]" not in qd1_result.job_files[1]
    assert len(qd1_result.frame()) >= 2 * 4


def test_missing_fio_raises_fio_unavailable_with_the_fix() -> None:
    jobs = parse_job_set("quick", "test")
    with pytest.raises(FioUnavailable, match="install fio"):
        run_job_set(lambda text: "sh: 1: fio: not found\n", jobs, size_bytes=1 << 20)
    with pytest.raises(FioUnavailable, match="no-such-fio: not found"):
        run_job_set(local_execute("/dev/null", fio="no-such-fio"), jobs, size_bytes=1 << 20)


def test_littles_law_flags_a_queue_that_was_not_kept_full(qd1_result: PerfResult) -> None:
    figure = _figure(qd1_result, "lat-randread")
    claimed = replace(figure.job, iodepth=8)  # as if QD8 had been asked for
    check = littles_law_check(claimed, figure.merged)
    assert check["ok"] is False and "not kept full" in check["detail"]
    assert "configured 8" in check["detail"]
