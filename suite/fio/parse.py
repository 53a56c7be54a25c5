"""Read fio's own JSON (`--output-format=json+`) into typed values and pandas.

There is no maintained fio parser on PyPI, and the anchors show how easily a
flat mapping goes wrong (reading `clat` for sync engines, `iops_mean` instead of
`iops`, percentiles that are absent by default). This parser keeps what the
suite reports and the raw histogram bins needed to merge exactly. fio prints
warnings and errors before its JSON on the same stream (axboe/fio #731), so the
non-JSON lines are kept as warnings and the document after them is parsed.
Older fio (3.1 of Ubuntu 18.04, 3.16 of Ubuntu 20.04) keeps some figures under
other keys; `suite.fio.compat` knows where, so every version reads alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from suite.fio import compat
from suite.fio.compat import version_tuple
from suite.fio.errors import FioOutputError

__all__ = ["DirStats", "FioRun", "JobResult", "LatStats", "parse_output", "version_tuple"]

DIRECTIONS = ("read", "write", "sync", "mixed")


@dataclass(frozen=True)
class LatStats:
    """Total latency (`lat_ns`) of one direction: summary, fio's percentiles, bins."""

    n: int
    min_ns: int
    max_ns: int
    mean_ns: float
    stddev_ns: float
    percentiles: dict[float, int] = field(default_factory=dict)
    bins: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DirStats:
    """One direction of one job (read, write, sync = fsync/fdatasync, mixed)."""

    direction: str
    total_ios: int
    iops: float
    bw_bytes: float
    io_bytes: int
    runtime_ms: int
    short_ios: int
    drop_ios: int
    lat: LatStats | None

    @property
    def bw_mibs(self) -> float:
        return self.bw_bytes / 1024**2


@dataclass(frozen=True)
class JobResult:
    """One reported job (one stonewall group with group_reporting)."""

    name: str
    error: int
    options: dict[str, str]
    dirs: dict[str, DirStats]


@dataclass(frozen=True)
class FioRun:
    """One fio invocation: version, jobs in order, and any lines fio printed before the JSON."""

    version: str
    jobs: list[JobResult]
    global_options: dict[str, str]
    warnings: list[str]

    def job(self, name: str) -> JobResult:
        for job in self.jobs:
            if job.name == name:
                return job
        names = [j.name for j in self.jobs]
        raise FioOutputError(f"fio output has no job {name!r} (jobs: {names})")

    def to_frame(self) -> pd.DataFrame:
        """One row per job and direction, latencies in microseconds."""
        return pd.DataFrame([_row(job, d) for job in self.jobs for d in job.dirs.values()])


def _row(job: JobResult, d: DirStats) -> dict[str, Any]:
    row: dict[str, Any] = {"job": job.name, "direction": d.direction, "iops": d.iops,
                           "bw_mibs": d.bw_mibs, "total_ios": d.total_ios,
                           "short_ios": d.short_ios, "error": job.error}
    if d.lat is not None:
        row["lat_mean_us"] = d.lat.mean_ns / 1000
        row["lat_max_us"] = d.lat.max_ns / 1000
        row.update({f"lat_p{p:g}_us": v / 1000 for p, v in d.lat.percentiles.items()})
    return row


def _lat(raw: dict[str, Any], lat_pct: bool, calls: int) -> LatStats | None:
    """Total latency of one direction, in whichever layout this fio version used;
    `calls` counts its samples when fio printed no count (fsyncs before fio 3.18)."""
    lat = raw.get("lat_ns")
    if not isinstance(lat, dict):
        return None
    pct, bins = compat.total_latency_tables(raw, lat_pct)
    counted = int(raw.get("total_ios", 0)) or (calls if lat.get("max") else 0)
    n = compat.sample_count(lat, bins, counted)
    if n <= 0:
        return None
    return LatStats(n=n, min_ns=int(lat["min"]), max_ns=int(lat["max"]),
                    mean_ns=float(lat["mean"]), stddev_ns=float(lat.get("stddev", 0.0)),
                    percentiles=pct, bins=bins)


def _dir(name: str, raw: dict[str, Any], lat_pct: bool, calls: int = 0) -> DirStats | None:
    lat = _lat(raw, lat_pct, calls)
    if not raw.get("total_ios") and lat is None:
        return None
    return DirStats(
        direction=name, total_ios=int(raw.get("total_ios", 0)), iops=float(raw.get("iops", 0.0)),
        bw_bytes=compat.bandwidth_bytes(raw), io_bytes=int(raw.get("io_bytes", 0)),
        runtime_ms=int(raw.get("runtime", 0)), short_ios=int(raw.get("short_ios", 0)),
        drop_ios=int(raw.get("drop_ios", 0)), lat=lat)


def _job(raw: dict[str, Any], global_options: dict[str, Any]) -> JobResult:
    options = raw.get("job options") or {}
    lat_pct = compat.lat_percentiles_on(global_options, options)
    writes = int((raw.get("write") or {}).get("total_ios", 0))
    calls = {"sync": compat.sync_calls(options, global_options, writes)}
    dirs = {}
    for name in DIRECTIONS:
        if isinstance(raw.get(name), dict) and (
                stats := _dir(name, raw[name], lat_pct, calls.get(name, 0))):
            dirs[name] = stats
    return JobResult(name=str(raw["jobname"]), error=int(raw.get("error", 0)),
                     options={k: str(v) for k, v in options.items()}, dirs=dirs)


def _is_result(doc: Any) -> bool:
    return isinstance(doc, dict) and ("jobs" in doc or "client_stats" in doc)


def _document(text: str) -> tuple[dict[str, Any], list[str]]:
    """The last fio result document in `text`, and the lines around the documents.

    fio prints warnings before its JSON, and with `--status-interval` or on
    SIGUSR1 it writes one complete cumulative document per status dump; the last
    one is the final result. A document cut short after the last complete one is
    an error, not a reason to fall back to an earlier, partial dump.
    """
    decoder = json.JSONDecoder()
    docs: list[dict[str, Any]] = []
    chatter: list[str] = []
    error: json.JSONDecodeError | None = None
    resume = offset = 0
    for line in text.splitlines(keepends=True):
        start, offset = offset, offset + len(line)
        if start < resume or not line.strip():
            continue
        brace = start + len(line) - len(line.lstrip())
        if text[brace] != "{":
            chatter.append(line.rstrip())
            continue
        try:
            doc, resume = decoder.raw_decode(text, brace)
        except json.JSONDecodeError as exc:
            error = exc
            chatter.append(line.rstrip())
            continue
        if _is_result(doc):
            docs.append(doc)
            error = None
    if error is not None:
        raise FioOutputError(f"fio JSON is truncated or invalid ({error.msg} at line "
                             f"{error.lineno} column {error.colno})")
    if not docs:
        first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "<empty>")
        raise FioOutputError(f"fio printed no JSON result (first line: {first[:160]!r})")
    return docs[-1], chatter


def parse_output(text: str) -> FioRun:
    """Parse fio's stdout (json or json+) of fio 3.1 or newer, tolerating warning lines
    and status dumps before the final document; fio 2.x is refused in one line."""
    doc, warnings = _document(text)
    version = str(doc.get("fio version", ""))
    compat.require_supported(version)  # before reading fields whose layout depends on it
    global_options = doc.get("global options") or {}
    try:
        raw_jobs = doc.get("jobs", doc.get("client_stats"))
        if not isinstance(raw_jobs, list):
            raise TypeError("'jobs' is not a list")
        jobs = [_job(job, global_options) for job in raw_jobs]
    except (KeyError, TypeError, ValueError) as exc:
        raise FioOutputError(f"fio JSON lacks an expected field ({exc})") from None
    return FioRun(version=version, jobs=jobs, global_options=global_options,
                  warnings=warnings)
