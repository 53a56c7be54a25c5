"""Parsing and merging against real output of the installed fio.

The exactness claim is checked against fio itself: fio sums latency histograms
with one routine (`sum_thread_stats`) for group_reporting and for
unified_rw_reporting's "mixed" figures, so both are fio's own answer for the
very same I/Os our merge combines.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from suite.fio.errors import FioOutputError
from suite.fio.histogram import bins_from_samples, bucket_of, percentiles
from suite.fio.merge import merge_dirs, merge_lat
from suite.fio.parse import LatStats, parse_output

_GLOBAL = """[global]
filename=FILE
size=16m
direct=1
ioengine=libaio
lat_percentiles=1
percentile_list=50:90:95:99:99.9:99.99
"""
_MIXED = _GLOBAL + """unified_rw_reporting=both
[mix]
rw=randrw
rwmixread=60
bs=4k
iodepth=2
time_based=1
runtime=1
"""
_TWO_JOBS = _GLOBAL + """time_based=1
runtime=1
[a]
rw=randread
bs=4k
iodepth=1
[b]
rw=randread
bs=4k
iodepth=4
"""


@pytest.fixture(scope="module")
def mixed(raw_fio: Callable[[str], str]):  # type: ignore[no-untyped-def]
    return parse_output(raw_fio(_MIXED)).job("mix")


@pytest.fixture(scope="module")
def two_jobs(raw_fio: Callable[[str], str], fio_dir: Path):  # type: ignore[no-untyped-def]
    """Jobs a and b as separate results, plus the same run group-reported.

    fio cannot print per-job and group figures for one run, so the grouped run
    also writes every I/O's latency to per-job logs; their histograms are the
    jobs' own, for exactly the I/Os fio's group figure summed.
    """
    separate = parse_output(raw_fio(_TWO_JOBS))
    logs = fio_dir / "lat"
    grouped_text = _TWO_JOBS.replace(
        "[a]", f"group_reporting=1\nwrite_lat_log={logs}\nlog_avg_msec=0\n[a]")
    grouped = parse_output(raw_fio(grouped_text))
    per_job = [bins_from_samples(int(line.split(",")[1])
                                 for line in (fio_dir / f"lat_lat.{i}.log").open())
               for i in (1, 2)]
    return separate, grouped, per_job


def test_parse_reads_fio_json_plus(mixed) -> None:  # type: ignore[no-untyped-def]
    read = mixed.dirs["read"]
    assert read.total_ios > 100 and read.iops > 0 and read.bw_bytes > 0
    assert read.lat is not None and sum(read.lat.bins.values()) == read.lat.n
    assert set(read.lat.percentiles) == {50.0, 90.0, 95.0, 99.0, 99.9, 99.99}
    assert read.lat.min_ns <= read.lat.percentiles[50.0] <= read.lat.max_ns * 1.01


def test_our_percentile_rule_reproduces_fio_per_direction(mixed) -> None:  # type: ignore[no-untyped-def]
    for d in mixed.dirs.values():
        assert d.lat is not None
        assert percentiles(d.lat.bins, d.lat.percentiles) == d.lat.percentiles


def test_merged_read_and_write_equal_fios_own_sum_exactly(mixed) -> None:  # type: ignore[no-untyped-def]
    ours = merge_lat([mixed.dirs["read"].lat, mixed.dirs["write"].lat])
    fios = mixed.dirs["mixed"].lat
    assert ours is not None and fios is not None
    assert ours.bins == fios.bins and ours.n == fios.n
    assert {p: ours.percentiles[p] for p in fios.percentiles} == fios.percentiles
    assert ours.mean_ns == pytest.approx(fios.mean_ns, rel=1e-6)
    assert ours.stddev_ns == pytest.approx(fios.stddev_ns, rel=1e-4)
    assert (ours.min_ns, ours.max_ns) == (fios.min_ns, fios.max_ns)


def test_mean_is_weighted_by_sample_count_not_a_mean_of_means(mixed) -> None:  # type: ignore[no-untyped-def]
    r, w = mixed.dirs["read"].lat, mixed.dirs["write"].lat
    merged = merge_lat([r, w])
    assert merged is not None and r is not None and w is not None
    expected = (r.n * r.mean_ns + w.n * w.mean_ns) / (r.n + w.n)
    assert merged.mean_ns == pytest.approx(expected)
    assert r.n != w.n  # 60/30 mix: the naive mean of means would differ
    assert merged.mean_ns != pytest.approx((r.mean_ns + w.mean_ns) / 2, rel=1e-9)


@pytest.mark.slow
def test_two_jobs_merged_equal_group_reporting(two_jobs) -> None:  # type: ignore[no-untyped-def]
    _, grouped, per_job = two_jobs
    group = grouped.jobs[0].dirs["read"].lat
    assert group is not None and len(grouped.jobs) == 1
    parts = [LatStats(n=sum(b.values()), min_ns=min(b), max_ns=max(b), mean_ns=0.0,
                      stddev_ns=0.0, bins=b) for b in per_job]
    ours = merge_lat(parts)
    assert ours is not None and ours.n == group.n
    assert ours.bins == group.bins
    for p, value in group.percentiles.items():  # within one bucket; in practice equal
        assert abs(bucket_of(ours.percentiles[p]) - bucket_of(value)) <= 1
    assert percentiles(group.bins, group.percentiles) == group.percentiles


@pytest.mark.slow
def test_repeats_merge_rates_over_combined_runtime(two_jobs) -> None:  # type: ignore[no-untyped-def]
    separate, _, _ = two_jobs
    a, b = separate.job("a").dirs["read"], separate.job("b").dirs["read"]
    seq = merge_dirs([a, b], concurrent=False)
    both = merge_dirs([a, b], concurrent=True)
    assert seq.total_ios == a.total_ios + b.total_ios
    assert seq.iops == pytest.approx(seq.total_ios * 1000 / (a.runtime_ms + b.runtime_ms))
    assert both.iops == pytest.approx(a.iops + b.iops)


def test_warning_lines_before_json_are_kept(raw_fio: Callable[[str], str]) -> None:
    # bs=2300 with direct=1 makes real fio print errors ahead of its JSON.
    text = raw_fio(_GLOBAL + "[bad]\nrw=write\nbs=2300\nruntime=1\n")
    assert not text.lstrip().startswith("{")
    run = parse_output(text)
    assert run.warnings and any("fio" in w for w in run.warnings)
    assert run.job("bad").error != 0


def test_truncated_and_missing_json_are_clear_errors(mixed, raw_fio) -> None:  # type: ignore[no-untyped-def]
    text = raw_fio(_MIXED)
    with pytest.raises(FioOutputError, match="truncated or invalid"):
        parse_output(text[: len(text) // 2])
    with pytest.raises(FioOutputError, match=r"no JSON result .*Segmentation"):
        parse_output("Segmentation fault\n")
    with pytest.raises(FioOutputError, match="no JSON result"):
        parse_output("")


def test_unknown_job_and_old_version_are_refused(mixed, raw_fio) -> None:  # type: ignore[no-untyped-def]
    text = raw_fio(_MIXED)
    with pytest.raises(FioOutputError, match="no job 'nope'"):
        parse_output(text).job("nope")
    from suite.fio.merge import check_versions
    with pytest.raises(FioOutputError, match=r"fio-2\.21"):
        check_versions(["fio-3.33", "fio-2.21"])


def test_frame_has_one_row_per_job_and_direction(mixed, raw_fio) -> None:  # type: ignore[no-untyped-def]
    frame = parse_output(raw_fio(_MIXED)).to_frame()
    assert list(frame["direction"]) == ["read", "write", "mixed"]
    assert {"iops", "bw_mibs", "lat_p99_us", "lat_p99.99_us", "short_ios"} <= set(frame.columns)


def test_merging_needs_bins_but_a_single_result_stands_alone(mixed) -> None:  # type: ignore[no-untyped-def]
    lat = mixed.dirs["read"].lat
    plain = LatStats(n=lat.n, min_ns=lat.min_ns, max_ns=lat.max_ns, mean_ns=lat.mean_ns,
                     stddev_ns=lat.stddev_ns, percentiles=lat.percentiles)
    assert merge_lat([plain]) is plain
    with pytest.raises(FioOutputError, match="json\\+"):
        merge_lat([plain, plain])
