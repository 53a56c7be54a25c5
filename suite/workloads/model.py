"""What a workload needs, as plain data: capabilities, and figures with thresholds.

A workload profile (``profiles/workloads/*.yaml``) names the capability ids it cannot
do without and the figures that decide whether a class carries it: each figure reads
one number from the run (an fio job matched by its shape, or the boot storm), and has a
warn and a fail threshold and a direction. Matching fio jobs by shape (rw, bs, mix,
fdatasync) rather than by name lets a workload judge any profile's job set that ran the
pattern it cares about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Direction = Literal["higher", "lower"]
Fitness = Literal["fit", "marginal", "unfit", "not-assessed"]
FITNESS: tuple[str, ...] = ("fit", "marginal", "unfit", "not-assessed")

# fio entry metrics a figure may read (matrix.json performance.fio items); sums are
# computed, percentiles read from the entry's latency maps.
FIO_SUMS = {"iops": ("readIops", "writeIops"), "bwMiBs": ("readBwMiBs", "writeBwMiBs")}
FIO_RATES = ("readIops", "writeIops", "readBwMiBs", "writeBwMiBs")
FIO_LATENCIES = ("latencyUs", "readLatencyUs", "writeLatencyUs", "syncLatencyUs")
PERCENTILES = ("p50", "p90", "p95", "p99", "p99.9", "p99.99", "mean", "max")
# scale.bootstorm evidence: cloneSeconds / loginSeconds / readySeconds -> p50, p95, max
BOOTSTORM_FIGURES = ("cloneSeconds", "loginSeconds", "readySeconds")
BOOTSTORM_STATS = ("p50", "p95", "max")
JOB_KEYS = ("rw", "bs", "rwmixread", "iodepth", "numjobs", "fdatasync", "ioengine")


@dataclass(frozen=True)
class Figure:
    """One measured number and the thresholds that judge it.

    ``direction: higher`` means more is better (IOPS, bandwidth): at or above ``warn``
    is fine, below ``fail`` is unfit. ``lower`` means less is better (latency, seconds).
    """

    label: str
    source: Literal["fio", "bootstorm"]
    metric: str
    direction: Direction
    warn: float
    fail: float
    unit: str = ""
    job: dict[str, object] = field(default_factory=dict)  # fio option constraints

    def grade(self, value: float) -> Fitness:
        if self.direction == "higher":
            return "fit" if value >= self.warn else "marginal" if value >= self.fail else "unfit"
        return "fit" if value <= self.warn else "marginal" if value <= self.fail else "unfit"

    def threshold_for(self, fitness: str) -> float:
        """The threshold a value is judged against for the given outcome."""
        return self.warn if fitness == "fit" else self.fail if fitness == "unfit" else self.warn

    def describe_job(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.job.items()) or "any job"


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    needs: tuple[str, ...]
    figures: tuple[Figure, ...]
    source: str = ""

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "description": self.description, "needs": list(self.needs),
                "figures": [{"label": f.label, "source": f.source, "metric": f.metric,
                             "direction": f.direction, "warn": f.warn, "fail": f.fail,
                             "unit": f.unit, "job": dict(f.job)} for f in self.figures]}
