"""Checks recorded beside every fio figure, so a reader can tell a number from an artefact.

A figure is only worth comparing if the area was prefilled (unwritten thin
blocks read back as zeroes at memory speed), the queue really was as deep as
configured (Little's law: IOPS x mean latency = I/Os in flight), the latency is
not below what any durable medium can do (a cache answered, or a write was not
made durable), and repeats agree with each other. Each check says ok / not ok /
not applicable (None) and why; none of them changes a figure.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from suite.fio.job import FioJob
from suite.fio.merge import io_latency
from suite.fio.parse import JobResult

Check = dict[str, Any]

LITTLE_TOLERANCE = 0.15
SPREAD_LIMIT = 0.10
# Nothing durable answers a 4k read or an fdatasync in under ~5 us (Optane, the
# fastest non-volatile medium, needs ~10 us); faster means a cache or no flush.
DEFAULT_FLOORS_US = {"read": 5.0, "sync": 5.0}


def _check(ok: bool | None, detail: str) -> Check:
    return {"ok": ok, "detail": detail}


def prefill_check(job: FioJob, prefill: JobResult | None, size_bytes: int) -> Check:
    """The whole test area was written before this job read it."""
    if prefill is None:
        if not job.reads:
            return _check(None, "no prefill; the job only writes")
        return _check(False, "no prefill ran: reads may hit unwritten (zero) blocks")
    written = sum(d.io_bytes for d in prefill.dirs.values() if d.direction == "write")
    if prefill.error or written < size_bytes:
        return _check(False, f"prefill wrote {written} of {size_bytes} bytes "
                             f"(fio error {prefill.error})")
    return _check(True, f"{size_bytes} bytes written sequentially before the first job")


def in_flight(job: FioJob, result: JobResult) -> float:
    """Average I/Os in flight by Little's law, from fio's IOPS and mean total latency.

    With fdatasync each write also waits for its flush, so the flush time per
    write belongs to that I/O's time in the system.
    """
    total = 0.0
    sync = result.dirs.get("sync")
    for name in ("read", "write"):
        d = result.dirs.get(name)
        if d is None or d.lat is None:
            continue
        seconds = d.lat.mean_ns / 1e9
        if name == "write" and sync is not None and sync.lat is not None and d.total_ios:
            seconds += sync.lat.mean_ns / 1e9 * sync.lat.n / d.total_ios
        total += d.iops * seconds
    return total


def littles_law_check(job: FioJob, result: JobResult, tolerance: float = LITTLE_TOLERANCE,
                      copies: int = 1) -> Check:
    """IOPS x mean latency should equal the configured depth x numjobs (x VMs at once)."""
    expected = job.outstanding * copies
    measured = in_flight(job, result)
    if measured == 0.0:
        return _check(None, "no completed I/O to check")
    ratio = measured / expected
    vms = f" x {copies} VMs" if copies > 1 else ""
    detail = (f"IOPS x mean latency = {measured:.2f} I/Os in flight, configured "
              f"{expected} (iodepth {job.iodepth} x numjobs {job.numjobs}{vms})")
    if abs(ratio - 1) <= tolerance:
        return _check(True, detail)
    hint = ("queue not kept full: guest CPU or fio limits this figure, not the storage"
            if ratio < 1 else "more in flight than configured: timing is inconsistent")
    return _check(False, f"{detail}; {hint}")


def latency_floor_check(job: FioJob, result: JobResult,
                        floors_us: Mapping[str, float] | None = None) -> Check:
    """Reads and flushes faster than any durable medium point at a cache or a lie."""
    floors = {**DEFAULT_FLOORS_US, **(floors_us or {})}
    findings = []
    for name, what in (("read", "a cache answered the reads"),
                       ("sync", "fdatasync returned without reaching durable media")):
        d = result.dirs.get(name)
        if d is None or d.lat is None or 50.0 not in d.lat.percentiles:
            continue
        p50_us = d.lat.percentiles[50.0] / 1000
        if p50_us < floors[name]:
            findings.append(f"{name} p50 {p50_us:.1f} us < {floors[name]:g} us: {what}")
    if findings:
        return _check(False, "; ".join(findings))
    checked = [n for n in ("read", "sync") if n in result.dirs]
    if not checked:
        return _check(None, "no reads or flushes to check")
    return _check(True, f"{' and '.join(checked)} p50 above the floor of durable media")


def _cov(values: Sequence[float]) -> float:
    mean = statistics.fmean(values)
    return statistics.stdev(values) / mean if mean else 0.0


def spread_check(repeats: Sequence[JobResult], limit: float = SPREAD_LIMIT) -> Check:
    """Coefficient of variation of IOPS (and p99) across repeats."""
    if len(repeats) < 2:
        return _check(None, "one repeat; spread not measured")
    iops = [sum(d.iops for n, d in r.dirs.items() if n in ("read", "write")) for r in repeats]
    p99 = [lat.percentiles.get(99.0, 0) / 1000 for r in repeats if (lat := io_latency(r))]
    cov_iops = _cov(iops)
    detail = f"IOPS CoV {cov_iops:.1%} over {len(repeats)} repeats"
    if len(p99) == len(repeats):
        detail += f"; p99 per repeat (us): {', '.join(f'{v:.1f}' for v in p99)}"
    return _check(cov_iops <= limit, detail)


def all_of(checks: Sequence[Check]) -> Check:
    """One check from the same check on several VMs: failed if any failed."""
    failed = [c["detail"] for c in checks if c["ok"] is False]
    if failed:
        return _check(False, "; ".join(dict.fromkeys(failed)))
    ok = None if all(c["ok"] is None for c in checks) else True
    return _check(ok, checks[0]["detail"] if checks else "no VMs")


def health_check(result: JobResult) -> Check:
    """fio reported no error and no short or dropped I/O."""
    short = sum(d.short_ios for d in result.dirs.values())
    dropped = sum(d.drop_ios for d in result.dirs.values())
    if result.error or short or dropped:
        return _check(False, f"fio error {result.error}, {short} short and {dropped} dropped I/Os")
    return _check(True, "no fio error, no short or dropped I/O")
