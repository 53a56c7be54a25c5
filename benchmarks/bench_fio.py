"""Measurement fidelity and overhead of the suite's fio path.

Fidelity: the same jobs run (a) through the suite's path - `run_job_set`
rendering the job file, the guest probe's `fio` verb (suite/guest/probe.sh,
run here on the host with PROBE_DEV_ROOT, exactly as a lab guest runs it) and
the parser - and (b) as plain fio on the same export. Rounds alternate the
order, and each side's rounds are merged by summing histogram bins, so the
ratios compare like with like. Target: IOPS and latency within 5 %.

Overhead: wall time of a performance run against the sum of the configured
fio runtimes (ramp included), with the prefill shown on its own.

The target is a lab volume served by qemu-storage-daemon over FUSE (optionally
throttled, which makes the device steady); `--target file` uses a plain file.

    python benchmarks/bench_fio.py [--target lab|file] [--rounds 3] [--runtime 3]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from suite.fio.errors import FioOutputError, FioUnavailable
from suite.fio.jobs import FioJob, parse_job_set
from suite.fio.local import local_execute
from suite.fio.merge import io_latency, merge_jobs
from suite.fio.parse import JobResult
from suite.fio.result import PerfResult
from suite.fio.runner import run_job_set

PROBE = Path(__file__).resolve().parents[1] / "suite" / "guest" / "probe.sh"
SERIAL = "benchdisk"


def probe_execute(dev_root: Path) -> Callable[[str], str]:
    """The probe's fio verb, as the perf check calls it inside a guest."""
    def execute(job_text: str) -> str:
        encoded = base64.b64encode(job_text.encode()).decode()
        done = subprocess.run(["sh", str(PROBE), "fio", SERIAL, encoded], capture_output=True,
                              text=True, env={**os.environ, "PROBE_DEV_ROOT": str(dev_root)},
                              check=False)
        if done.returncode == 127:
            raise FioUnavailable(done.stdout.strip())
        if done.returncode != 0:
            raise FioOutputError(f"probe exited {done.returncode}: {done.stdout.strip()}")
        return done.stdout
    return execute


def _jobs(runtime_s: int) -> list[FioJob]:
    return parse_job_set([
        {"name": "lat-randread", "rw": "randread", "bs": "4k", "runtime_s": runtime_s},
        {"name": "lat-randwrite", "rw": "randwrite", "bs": "4k", "runtime_s": runtime_s},
        {"name": "iops-randread", "rw": "randread", "bs": "4k", "iodepth": 16,
         "runtime_s": runtime_s},
    ], "benchmarks/bench_fio.py")


@contextmanager
def file_target(size: int) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bench-fio-", dir="/var/tmp") as folder:
        path = Path(folder) / "disk.img"
        with path.open("wb") as handle:
            handle.truncate(size)
        yield path


@contextmanager
def lab_target(size: int, iops: int | None) -> Iterator[Path]:
    from suite.lab.dataplane.plane import DataPlane

    with tempfile.TemporaryDirectory(prefix="bench-fio-lab-") as folder:
        plane = DataPlane(folder)
        loop = asyncio.new_event_loop()
        limits = {"iops": iops} if iops else None
        try:
            yield loop.run_until_complete(
                plane.create_volume("bench", size, volume_mode="Block", limits=limits))
        finally:
            loop.run_until_complete(plane.shutdown())
            loop.close()


def _dev_root(folder: Path, target: Path) -> Path:
    by_id = folder / "dev" / "disk" / "by-id"
    by_id.mkdir(parents=True)
    (by_id / f"virtio-{SERIAL}").symlink_to(target)
    return folder


def _figures(job: JobResult) -> tuple[float, float, float, float]:
    lat = io_latency(job)
    assert lat is not None
    iops = sum(d.iops for n, d in job.dirs.items() if n in ("read", "write"))
    return iops, lat.mean_ns / 1000, lat.percentiles[50.0] / 1000, lat.percentiles[99.0] / 1000


def _overhead(result: PerfResult) -> tuple[float, float, float]:
    configured = sum(j.runtime_s + j.ramp_s for j in result.jobs)
    prefill = next((j for j in result.runs[0].jobs if j.name == "prefill"), None)
    if prefill is None:
        return result.wall_s, configured, 0.0
    return result.wall_s, configured, max(d.runtime_ms for d in prefill.dirs.values()) / 1000


def _timed(execute: Callable[[str], str], spent: list[float]) -> Callable[[str], str]:
    def run(text: str) -> str:
        started = time.monotonic()
        try:
            return execute(text)
        finally:
            spent.append(time.monotonic() - started)
    return run


def measure(target: Path, jobs: list[FioJob], rounds: int, size: int) -> None:
    probe_s: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-fio-root-") as folder:
        sides = {"probe": _timed(probe_execute(_dev_root(Path(folder), target)), probe_s),
                 "direct": local_execute(target)}
        results: dict[str, list[PerfResult]] = {"probe": [], "direct": []}
        for i in range(rounds):
            for side in (("probe", "direct") if i % 2 == 0 else ("direct", "probe")):
                results[side].append(run_job_set(sides[side], jobs, size_bytes=size))
    _report_fidelity(jobs, results)
    _report_overhead(results["probe"], probe_s)


def _report_fidelity(jobs: list[FioJob], results: dict[str, list[PerfResult]]) -> None:
    print(f"{'job':15} {'side':7} {'IOPS':>10} {'mean us':>9} {'p50 us':>9} {'p99 us':>9}")
    for job in jobs:
        merged = {side: merge_jobs([r.runs[0].job(job.name) for r in runs], concurrent=False)
                  for side, runs in results.items()}
        figures = {side: _figures(m) for side, m in merged.items()}
        for side, (iops, mean, p50, p99) in figures.items():
            print(f"{job.name:15} {side:7} {iops:10.0f} {mean:9.1f} {p50:9.1f} {p99:9.1f}")
        ratios = [p / d for p, d in zip(figures["probe"], figures["direct"], strict=True)]
        verdict = "within 5%" if all(abs(r - 1) <= 0.05 for r in ratios[:3]) else "OUTSIDE 5%"
        print(f"{job.name:15} {'ratio':7} {ratios[0]:10.3f} {ratios[1]:9.3f} {ratios[2]:9.3f} "
              f"{ratios[3]:9.3f}  probe/direct (IOPS, mean, p50: {verdict})")
        paired = [_figures(p.runs[0].job(job.name))[0] / _figures(d.runs[0].job(job.name))[0]
                  for p, d in zip(results["probe"], results["direct"], strict=True)]
        print(f"{'':15} paired per-round IOPS ratio: median {statistics.median(paired):.3f} "
              f"(rounds: {', '.join(f'{r:.3f}' for r in paired)})")
        per_round = [_figures(r.runs[0].job(job.name))[0] for r in results["direct"]]
        if len(per_round) > 1:
            cov = statistics.stdev(per_round) / statistics.fmean(per_round)
            print(f"{'':15} direct IOPS round-to-round CoV {cov:.1%} (the noise floor)")


def _report_overhead(runs: list[PerfResult], probe_s: list[float]) -> None:
    for i, (result, fio_s) in enumerate(zip(runs, probe_s, strict=True), 1):
        wall, configured, prefill = _overhead(result)
        extra = wall - configured - prefill
        print(f"run {i}: wall {wall:.2f} s = configured fio {configured:.0f} s + prefill "
              f"{prefill:.2f} s + overhead {extra:.2f} s ({extra / configured:.1%}); of the "
              f"overhead, fio's own start/stop {fio_s - configured - prefill:.2f} s, "
              f"render+parse+merge {wall - fio_s:.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=("lab", "file"), default="lab")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runtime", type=int, default=3, help="seconds per job")
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--iops-limit", type=int, default=0,
                        help="lab target: throttle the volume to this many IOPS")
    args = parser.parse_args(argv)
    size = args.size_mib * 1024 * 1024
    jobs = _jobs(args.runtime)
    started = time.monotonic()
    target = (lab_target(size, args.iops_limit or None) if args.target == "lab"
              else file_target(size))
    with target as path:
        print(f"target {args.target} ({path}), {args.rounds} rounds x {len(jobs)} jobs x "
              f"{args.runtime} s, limit {args.iops_limit or 'none'}")
        measure(path, jobs, args.rounds, size)
    print(f"benchmark wall time {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
