"""Combine fio results across repeats, VMs and directions without lying.

Percentiles are read from summed histogram bins (fio's own rule), means are
weighted by sample counts and spreads pooled as fio's `__sum_stat` does, and
rates add up only for load that ran at the same time. Averaging percentiles or
taking a mean of means, as several anchor tools do, is never done here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from suite.fio.errors import FioOutputError
from suite.fio.histogram import merge_bins, percentiles
from suite.fio.jobfile import PERCENTILES
from suite.fio.parse import DirStats, JobResult, LatStats, version_tuple


def check_versions(versions: Sequence[str]) -> None:
    """Refuse to merge histograms from fio 2.x, whose buckets differ from fio 3's."""
    old = sorted({v for v in versions if version_tuple(v) < (3, 0)})
    if old:
        raise FioOutputError(f"cannot merge latency histograms from {', '.join(old)}; "
                             "fio 3.0 or newer is needed in every guest")


def _pooled_stddev(parts: Sequence[LatStats], n: int, mean: float) -> float:
    if n < 2:
        return 0.0
    spread = sum((p.n - 1) * p.stddev_ns**2 + p.n * (p.mean_ns - mean) ** 2 for p in parts)
    return math.sqrt(max(spread, 0.0) / (n - 1))


def merge_lat(parts: Sequence[LatStats | None]) -> LatStats | None:
    """One latency distribution holding every I/O of `parts`."""
    present = [p for p in parts if p is not None and p.n > 0]
    if not present:
        return None
    if len(present) == 1:
        return present[0]  # nothing to combine; fio's own figures stand (even without bins)
    n = sum(p.n for p in present)
    mean = sum(p.n * p.mean_ns for p in present) / n
    if any(not p.bins for p in present):
        if any(p.percentiles for p in present):
            raise FioOutputError("latency bins missing; run fio with --output-format=json+ "
                                 "and lat_percentiles=1 to merge percentiles")
        # fio printed no distribution at all (fsyncs of fio < 3.18 without
        # clat_percentiles): the summary still merges exactly, percentiles stay absent.
        bins, pct = {}, {}
    else:
        bins = merge_bins(p.bins for p in present)
        pct = percentiles(bins, sorted({q for p in present for q in p.percentiles}
                                       | set(PERCENTILES)))
    return LatStats(n=n, min_ns=min(p.min_ns for p in present),
                    max_ns=max(p.max_ns for p in present), mean_ns=mean,
                    stddev_ns=_pooled_stddev(present, n, mean), percentiles=pct, bins=bins)


def merge_dirs(parts: Sequence[DirStats], *, concurrent: bool) -> DirStats:
    """One direction over several runs: concurrent runs add their rates; sequential
    runs (repeats) give the rate over their combined runtime."""
    if not parts:
        raise ValueError("nothing to merge")
    ios = sum(p.total_ios for p in parts)
    io_bytes = sum(p.io_bytes for p in parts)
    if concurrent:
        runtime = max(p.runtime_ms for p in parts)
        iops, bw = sum(p.iops for p in parts), sum(p.bw_bytes for p in parts)
    else:
        # Time-weighted rates: for fio's own figures this is total I/Os over total
        # runtime, and it keeps summed rates of concurrent VMs intact.
        runtime = sum(p.runtime_ms for p in parts)
        iops = sum(p.iops * p.runtime_ms for p in parts) / runtime if runtime else 0.0
        bw = sum(p.bw_bytes * p.runtime_ms for p in parts) / runtime if runtime else 0.0
    return DirStats(direction=parts[0].direction, total_ios=ios, iops=iops, bw_bytes=bw,
                    io_bytes=io_bytes, runtime_ms=runtime,
                    short_ios=sum(p.short_ios for p in parts),
                    drop_ios=sum(p.drop_ios for p in parts),
                    lat=merge_lat([p.lat for p in parts]))


def merge_jobs(parts: Sequence[JobResult], *, concurrent: bool) -> JobResult:
    """The same job from several runs (repeats, or VMs running at once) as one result."""
    names = [d for part in parts for d in part.dirs]
    dirs = {}
    for name in dict.fromkeys(names):
        dirs[name] = merge_dirs([p.dirs[name] for p in parts if name in p.dirs],
                                concurrent=concurrent)
    error = next((p.error for p in parts if p.error), 0)
    return JobResult(name=parts[0].name, error=error, options=parts[0].options, dirs=dirs)


def io_latency(job: JobResult) -> LatStats | None:
    """Latency over all data I/Os of a job (read and write together; not fsyncs)."""
    if "mixed" in job.dirs:
        return job.dirs["mixed"].lat
    return merge_lat([job.dirs[d].lat for d in ("read", "write") if d in job.dirs])
