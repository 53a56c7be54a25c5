"""The outcome of one performance run, shaped for matrix.json, fio.csv and pandas.

`PerfResult` keeps every repeat's parsed fio output (nothing is thrown away),
the merged figure per job and the validity checks beside it. The matrix entry
follows DESIGN.md's `performance.fio` item and adds p99.99, mean, validity,
the fio version and the exact options, so a figure always travels with how it
was measured.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from suite.fio.job import FioJob
from suite.fio.merge import io_latency
from suite.fio.parse import FioRun, JobResult, LatStats

_KEYS = {50.0: "p50", 90.0: "p90", 95.0: "p95", 99.0: "p99", 99.9: "p99.9", 99.99: "p99.99"}


def latency_us(lat: LatStats | None) -> dict[str, float] | None:
    """Percentiles, mean and max in microseconds (fio reports ns)."""
    if lat is None:
        return None
    out = {key: round(lat.percentiles[p] / 1000, 3) for p, key in _KEYS.items()
           if p in lat.percentiles}
    out["mean"] = round(lat.mean_ns / 1000, 3)
    out["max"] = round(lat.max_ns / 1000, 3)
    return out


def _rates(result: JobResult) -> dict[str, float]:
    read, write = result.dirs.get("read"), result.dirs.get("write")
    return {"readIops": round(read.iops, 1) if read else 0.0,
            "writeIops": round(write.iops, 1) if write else 0.0,
            "readBwMiBs": round(read.bw_mibs, 2) if read else 0.0,
            "writeBwMiBs": round(write.bw_mibs, 2) if write else 0.0}


def _dir_latency(result: JobResult, name: str) -> dict[str, float] | None:
    d = result.dirs.get(name)
    return latency_us(d.lat) if d else None


@dataclass
class JobFigure:
    """One job: its definition, each repeat's result, the merged result, validity."""

    job: FioJob
    repeats: list[JobResult]
    merged: JobResult
    validity: dict[str, dict[str, Any]]

    def entry(self, version: str) -> dict[str, Any]:
        item: dict[str, Any] = {"job": self.job.name, **_rates(self.merged),
                                "latencyUs": latency_us(io_latency(self.merged)) or {}}
        for name, key in (("read", "readLatencyUs"), ("write", "writeLatencyUs"),
                          ("sync", "syncLatencyUs")):
            if (lat := _dir_latency(self.merged, name)) is not None:
                item[key] = lat
        item.update({"ios": sum(d.total_ios for d in self.merged.dirs.values()
                                if d.direction in ("read", "write")),
                     "repeats": len(self.repeats), "perRepeat": self.per_repeat(),
                     "errors": self.errors(),
                     "validity": self.validity, "fioVersion": version,
                     "options": self.job.options()})
        return item

    def per_repeat(self) -> list[dict[str, Any]]:
        """Each repeat's rates and latency: the samples significance tests compare."""
        out = []
        for result in self.repeats:
            item: dict[str, Any] = {**_rates(result),
                                    "latencyUs": latency_us(io_latency(result)) or {}}
            if (sync := _dir_latency(result, "sync")) is not None:
                item["syncLatencyUs"] = sync
            out.append(item)
        return out

    def errors(self) -> list[str]:
        return [f"repeat {i}: fio error {r.error}" for i, r in enumerate(self.repeats, 1)
                if r.error]


@dataclass
class PerfResult:
    """Everything one `run_job_set` measured on one disk."""

    jobs: list[FioJob]
    runs: list[FioRun]
    figures: list[JobFigure]
    size_bytes: int
    job_files: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def fio_version(self) -> str:
        return self.runs[0].version if self.runs else "unknown"

    def matrix_entries(self) -> list[dict[str, Any]]:
        """DESIGN.md `performance.fio` items, one per job, repeats merged."""
        return [figure.entry(self.fio_version) for figure in self.figures]

    def csv_rows(self, storage_class: str) -> list[dict[str, Any]]:
        """fio.csv rows: one per class x job x repeat, with version and exact options."""
        return [self._row(storage_class, figure, i, result)
                for figure in self.figures for i, result in enumerate(figure.repeats, 1)]

    def _row(self, storage_class: str, figure: JobFigure, repeat: int,
             result: JobResult) -> dict[str, Any]:
        lat = latency_us(io_latency(result)) or {}
        sync = _dir_latency(result, "sync") or {}
        return {"storageClass": storage_class, "job": figure.job.name, "repeat": repeat,
                "fioVersion": self.fio_version, **_rates(result),
                **{f"lat_{k}_us": v for k, v in lat.items()},
                "sync_p99_us": sync.get("p99"),
                "ios": sum(d.total_ios for d in result.dirs.values()),
                "shortIos": sum(d.short_ios for d in result.dirs.values()),
                "error": result.error,
                "valid": all(c["ok"] is not False for c in figure.validity.values()),
                "options": json.dumps(figure.job.options(), sort_keys=True),
                "fioOptions": json.dumps({**self.runs[0].global_options,
                                          **result.options}, sort_keys=True)}

    def frame(self) -> pd.DataFrame:
        """Every repeat of every job and direction, for analysis in pandas."""
        frames = [run.to_frame().assign(repeat=i) for i, run in enumerate(self.runs, 1)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
