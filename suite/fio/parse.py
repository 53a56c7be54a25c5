"""Read fio's own JSON (`--output-format=json+`) into typed values and pandas.

There is no maintained fio parser on PyPI, and the anchors show how easily a
flat mapping goes wrong (reading `clat` for sync engines, `iops_mean` instead of
`iops`, percentiles that are absent by default). This parser keeps what the
suite reports and the raw histogram bins needed to merge exactly. fio prints
warnings and errors before its JSON on the same stream (axboe/fio #731), so the
non-JSON lines are kept as warnings and the document after them is parsed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from suite.fio.errors import FioOutputError

DIRECTIONS = ("read", "write", "sync", "mixed")
_VERSION = re.compile(r"^fio-(\d+)\.(\d+)")


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


def version_tuple(version: str) -> tuple[int, int]:
    """(major, minor) from "fio-3.33"; bins are only comparable from fio 3.0 on."""
    match = _VERSION.match(version)
    if not match:
        raise FioOutputError(f"unrecognised fio version {version!r}")
    return int(match.group(1)), int(match.group(2))


def _lat(raw: dict[str, Any] | None) -> LatStats | None:
    if not raw or not raw.get("N", raw.get("max", 0)):
        return None
    return LatStats(
        n=int(raw.get("N", 0)), min_ns=int(raw["min"]), max_ns=int(raw["max"]),
        mean_ns=float(raw["mean"]), stddev_ns=float(raw.get("stddev", 0.0)),
        percentiles={float(k): int(v) for k, v in raw.get("percentile", {}).items()},
        bins={int(k): int(v) for k, v in raw.get("bins", {}).items()})


def _dir(name: str, raw: dict[str, Any]) -> DirStats | None:
    lat = _lat(raw.get("lat_ns"))
    if not raw.get("total_ios") and lat is None:
        return None
    return DirStats(
        direction=name, total_ios=int(raw.get("total_ios", 0)), iops=float(raw.get("iops", 0.0)),
        bw_bytes=float(raw.get("bw_bytes", 0)), io_bytes=int(raw.get("io_bytes", 0)),
        runtime_ms=int(raw.get("runtime", 0)), short_ios=int(raw.get("short_ios", 0)),
        drop_ios=int(raw.get("drop_ios", 0)), lat=lat)


def _job(raw: dict[str, Any]) -> JobResult:
    dirs = {}
    for name in DIRECTIONS:
        if isinstance(raw.get(name), dict) and (stats := _dir(name, raw[name])) is not None:
            dirs[name] = stats
    return JobResult(name=str(raw["jobname"]), error=int(raw.get("error", 0)),
                     options={k: str(v) for k, v in raw.get("job options", {}).items()}, dirs=dirs)


def _document(text: str) -> tuple[dict[str, Any], list[str]]:
    """The first JSON object in `text` that parses, skipping fio's leading chatter."""
    lines = text.splitlines(keepends=True)
    decoder = json.JSONDecoder()
    last_error: json.JSONDecodeError | None = None
    for i, line in enumerate(lines):
        if not line.lstrip().startswith("{"):
            continue
        try:
            doc, _ = decoder.raw_decode("".join(lines[i:]).lstrip())
        except json.JSONDecodeError as exc:
            last_error = exc
            continue
        if isinstance(doc, dict) and ("jobs" in doc or "client_stats" in doc):
            return doc, [ln.rstrip() for ln in lines[:i] if ln.strip()]
    if last_error is not None:
        raise FioOutputError(f"fio JSON is truncated or invalid ({last_error.msg} at line "
                             f"{last_error.lineno} column {last_error.colno})")
    first = next((ln.strip() for ln in lines if ln.strip()), "<empty>")
    raise FioOutputError(f"fio printed no JSON result (first line: {first[:160]!r})")


def parse_output(text: str) -> FioRun:
    """Parse fio's stdout (json or json+), tolerating warning lines before the JSON."""
    doc, warnings = _document(text)
    try:
        raw_jobs = doc.get("jobs", doc.get("client_stats"))
        if not isinstance(raw_jobs, list):
            raise TypeError("'jobs' is not a list")
        jobs = [_job(job) for job in raw_jobs]
        version = str(doc["fio version"])
    except (KeyError, TypeError, ValueError) as exc:
        raise FioOutputError(f"fio JSON lacks an expected field ({exc})") from None
    version_tuple(version)
    return FioRun(version=version, jobs=jobs, global_options=doc.get("global options", {}),
                  warnings=warnings)
