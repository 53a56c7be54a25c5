"""Trends over the stored history: per (class, metric), each job's series of run
medians, its change points, and the runs where a fingerprint changed.

Shared by the ``history`` command and the trend charts, so both show the same points.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from suite.history.changepoints import ChangePoint, detect
from suite.history.record import CLUSTER_KEYS
from suite.history.stats import METRICS
from suite.history.store import HistoryStore, Point


@dataclass
class Line:
    job: str
    mode: str
    points: list[tuple[int, Point]]  # (1-based run position in the history, point)
    changes: list[tuple[int, ChangePoint]]  # (1-based run position, change point)

    @property
    def label(self) -> str:
        return f"{self.job} ({self.mode})"


@dataclass
class Trend:
    storage_class: str
    metric: str
    lines: list[Line] = field(default_factory=list)
    marks: list[tuple[int, str]] = field(default_factory=list)  # fingerprint changes


def fingerprint_marks(store: HistoryStore) -> dict[str, list[tuple[int, str]]]:
    """Per class (and ``*`` for the cluster): (run position, what changed there)."""
    out: dict[str, list[tuple[int, str]]] = {"*": []}
    previous = None
    for position, (_, cluster, classes) in enumerate(store.class_fingerprints(), 1):
        if previous is not None:
            old_cluster, old_classes = previous
            for key in CLUSTER_KEYS:
                if old_cluster.get(key) != cluster.get(key):
                    out["*"].append((position, f"{key.removesuffix('Version')} "
                                               f"{old_cluster.get(key, '?')} -> "
                                               f"{cluster.get(key, '?')}"))
            for name, (prov, params) in classes.items():
                if name not in old_classes:
                    continue
                if old_classes[name][0] != prov:
                    out.setdefault(name, []).append((position, f"provisioner -> {prov}"))
                elif old_classes[name][1] != params:
                    out.setdefault(name, []).append(
                        (position, "CSI driver parameters changed here"))
        previous = (cluster, classes)
    return out


def trends(store: HistoryStore, storage_class: str | None = None,
           metric: str | None = None) -> list[Trend]:
    positions = {run.id: i for i, run in enumerate(store.runs(), 1)}
    marks = fingerprint_marks(store)
    grouped: dict[tuple[str, str], Trend] = {}
    for key in store.series_keys(storage_class, metric):
        sc, job, mode, name = key
        if name not in METRICS:
            continue
        points = [(positions[p.run_id], p) for p in store.series(key)]
        values = [p.value for _, p in points]
        if not any(values):
            continue  # e.g. write IOPS of a read-only job
        changes = [(points[c.index][0], c) for c in detect(values)]
        trend = grouped.setdefault((sc, name), Trend(sc, name, marks=marks["*"] + marks.get(
            sc, [])))
        trend.lines.append(Line(job, mode, points, changes))
    return list(grouped.values())
