"""Several VMs that ran the same job set at the same time, as one figure per job.

A buyer's question is often "what do ten VMs on this class get together?".
Rates of concurrent load add up; latency histograms add bucket by bucket, so
the combined percentiles are exact (what fio's "All clients" would sum), and
Little's law then expects every VM's queue in flight at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from suite.fio.errors import FioOutputError
from suite.fio.merge import check_versions, merge_jobs
from suite.fio.result import JobFigure, PerfResult
from suite.fio.validity import (
    all_of,
    health_check,
    latency_floor_check,
    littles_law_check,
    spread_check,
)


def _check_alike(results: Sequence[PerfResult]) -> None:
    if not results:
        raise ValueError("no results to combine")
    first = [j.name for j in results[0].jobs], len(results[0].runs)
    for result in results[1:]:
        if ([j.name for j in result.jobs], len(result.runs)) != first:
            raise FioOutputError("results to combine must come from the same jobs and repeats")


def _combined_figure(results: Sequence[PerfResult], index: int,
                     floors_us: Mapping[str, float] | None) -> JobFigure:
    job = results[0].jobs[index]
    repeats = [merge_jobs([r.figures[index].repeats[k] for r in results], concurrent=True)
               for k in range(len(results[0].runs))]
    merged = merge_jobs(repeats, concurrent=False)
    validity = {"prefill": all_of([r.figures[index].validity["prefill"] for r in results]),
                "health": health_check(merged),
                "littlesLaw": littles_law_check(job, merged, copies=len(results)),
                "latencyFloor": latency_floor_check(job, merged, floors_us),
                "repeatSpread": spread_check(repeats)}
    return JobFigure(job=job, repeats=repeats, merged=merged, validity=validity)


def combine_concurrent(results: Sequence[PerfResult],
                       latency_floors_us: Mapping[str, float] | None = None) -> PerfResult:
    """One PerfResult for `results` measured at the same time on different VMs."""
    _check_alike(results)
    check_versions([run.version for r in results for run in r.runs])
    figures = [_combined_figure(results, i, latency_floors_us)
               for i in range(len(results[0].jobs))]
    return PerfResult(jobs=list(results[0].jobs), runs=list(results[0].runs), figures=figures,
                      size_bytes=results[0].size_bytes, job_files=list(results[0].job_files),
                      wall_s=max(r.wall_s for r in results))
