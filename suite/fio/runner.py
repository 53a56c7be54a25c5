"""Run a job set through whatever executes fio (the guest probe, or fio on the host).

The runner does not know where fio runs: `execute(job_file_text) -> str` does
it (the perf check binds it to the probe's `fio` verb). That keeps measuring
and transport apart, so the same code is tested here against the real fio on
the host and used unchanged inside VMs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence

from suite.fio.errors import FioOutputError, FioUnavailable
from suite.fio.job import FioJob
from suite.fio.jobfile import PREFILL_JOB, render_job_file
from suite.fio.merge import check_versions, merge_jobs
from suite.fio.parse import FioRun, JobResult, parse_output
from suite.fio.result import JobFigure, PerfResult
from suite.fio.validity import (
    health_check,
    latency_floor_check,
    littles_law_check,
    prefill_check,
    spread_check,
)

__all__ = ["FioUnavailable", "PerfResult", "run_job_set"]

Execute = Callable[[str], str]
_MISSING = re.compile(r"fio: (?:command )?not found|fio: No such file|exec: \"?fio\"?: not found")


def _parse(text: str) -> FioRun:
    try:
        return parse_output(text)
    except FioOutputError:
        if (match := _MISSING.search(text)) is not None:
            raise FioUnavailable(match.group(0)) from None
        raise


def _figure(job: FioJob, repeats: list[JobResult], prefill: JobResult | None,
            size_bytes: int, floors_us: Mapping[str, float] | None) -> JobFigure:
    merged = merge_jobs(repeats, concurrent=False)
    validity = {"prefill": prefill_check(job, prefill, size_bytes),
                "health": health_check(merged),
                "littlesLaw": littles_law_check(job, merged),
                "latencyFloor": latency_floor_check(job, merged, floors_us),
                "repeatSpread": spread_check(repeats)}
    return JobFigure(job=job, repeats=repeats, merged=merged, validity=validity)


def run_job_set(execute: Execute, jobs: Sequence[FioJob], *, size_bytes: int,
                repeats: int = 1,
                latency_floors_us: Mapping[str, float] | None = None) -> PerfResult:
    """Run `jobs` `repeats` times through `execute` and merge the repeats per job.

    `execute` receives the job file text (with `filename=@DEVICE@`) and returns
    fio's stdout (`--output-format=json+`). It signals a guest without fio by
    raising `FioUnavailable` (preferred: e.g. on exit status 127), or by
    returning output that contains `fio: not found`; either way this function
    raises `FioUnavailable`, whose message carries the fix. Other unreadable
    output raises `FioOutputError`. The first repeat prefills the test area.
    """
    started = time.monotonic()
    texts = [render_job_file(jobs, size_bytes=size_bytes, prefill=i == 0) for i in range(repeats)]
    runs = [_parse(execute(text)) for text in texts]
    check_versions([run.version for run in runs])
    prefill = next((j for j in runs[0].jobs if j.name == PREFILL_JOB), None)
    figures = [_figure(job, [run.job(job.name) for run in runs], prefill, size_bytes,
                       latency_floors_us) for job in jobs]
    return PerfResult(jobs=list(jobs), runs=runs, figures=figures, size_bytes=size_bytes,
                      job_files=texts, wall_s=time.monotonic() - started)
