"""The history store: one SQLite file holding every run (``reports/history.sqlite``).

Appending happens once per run at the session's end, also after a failed or
interrupted run (marked incomplete, what was measured kept). Reads give whole
``RunRecord``s back, the list of runs, and one metric's series over all runs for
trends and change points.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
from dataclasses import dataclass
from pathlib import Path

from suite.config.errors import ConfigError
from suite.history.record import RunRecord, Sample
from suite.history.schema import migrate


@dataclass(frozen=True)
class RunSummary:
    seq: int
    id: str
    started: str
    profile: str
    complete: bool
    classes: int
    cells: int
    samples: int


@dataclass(frozen=True)
class Point:
    """One run's value of a series: the median of its repeats."""

    run_id: str
    started: str
    value: float


class HistoryStore:
    def __init__(self, path: Path):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(path))
            migrate(self.db, where=str(path))
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"history {path} is not a usable SQLite file: {exc}") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------
    def append(self, record: RunRecord) -> None:
        """Store a run; a run id already stored is replaced (a re-run with --run-id)."""
        with self.db:
            self._delete(record.id)
            self.db.execute(
                "INSERT INTO runs (id, started, finished, profile, suite_version, complete,"
                " cluster_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (record.id, record.started, record.finished, record.profile,
                 record.suite_version, int(record.complete), json.dumps(record.cluster)))
            self.db.executemany(
                "INSERT INTO classes VALUES (?, ?, ?, ?)",
                [(record.id, name, c.get("provisioner", ""), c.get("paramsHash", ""))
                 for name, c in record.classes.items()])
            self.db.executemany(
                "INSERT INTO cells VALUES (?, ?, ?, ?, ?)",
                [(record.id, sc, cap, v, r) for (sc, cap), (v, r) in record.cells.items()])
            self.db.executemany(
                "INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(record.id, s.storage_class, s.job, s.mode, s.repeat, s.metric, s.value)
                 for s in record.samples])

    def _delete(self, run_id: str) -> None:
        for table in ("samples", "cells", "classes"):
            self.db.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
        self.db.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    # -- reading -------------------------------------------------------------------------
    def runs(self) -> list[RunSummary]:
        """Every stored run, oldest first."""
        rows = self.db.execute(
            "SELECT seq, id, started, profile, complete,"
            " (SELECT COUNT(*) FROM classes c WHERE c.run_id = r.id),"
            " (SELECT COUNT(*) FROM cells c WHERE c.run_id = r.id),"
            " (SELECT COUNT(*) FROM samples s WHERE s.run_id = r.id)"
            " FROM runs r ORDER BY seq").fetchall()
        return [RunSummary(r[0], r[1], r[2] or "", r[3] or "", bool(r[4]), r[5], r[6], r[7])
                for r in rows]

    def latest_id(self, exclude: str | None = None, complete_only: bool = True) -> str | None:
        query = "SELECT id FROM runs WHERE id != ?"
        if complete_only:
            query += " AND complete = 1"
        row = self.db.execute(query + " ORDER BY seq DESC LIMIT 1", (exclude or "",)).fetchone()
        return row[0] if row else None

    def load(self, run_id: str) -> RunRecord:
        row = self.db.execute(
            "SELECT id, started, finished, profile, suite_version, complete, cluster_json"
            " FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise ConfigError(f"run {run_id!r} is not in history {self.path}")
        classes = {n: {"provisioner": p or "", "paramsHash": h or ""} for n, p, h in
                   self.db.execute("SELECT name, provisioner, params_hash FROM classes"
                                   " WHERE run_id = ?", (run_id,))}
        cells = {(sc, cap): (v, r or "") for sc, cap, v, r in self.db.execute(
            "SELECT class, capability, verdict, reason FROM cells WHERE run_id = ?",
            (run_id,))}
        samples = [Sample(*r) for r in self.db.execute(
            "SELECT class, job, mode, repeat, metric, value FROM samples WHERE run_id = ?"
            " ORDER BY class, job, mode, metric, repeat", (run_id,))]
        return RunRecord(id=row[0], started=row[1] or "", finished=row[2] or "",
                         profile=row[3] or "", suite_version=row[4] or "",
                         complete=bool(row[5]), cluster=json.loads(row[6] or "{}"),
                         classes=classes, cells=cells, samples=samples, source="store")

    def series_keys(self, storage_class: str | None = None,
                    metric: str | None = None) -> list[tuple[str, str, str, str]]:
        query = "SELECT DISTINCT class, job, mode, metric FROM samples WHERE 1=1"
        args: list[str] = []
        if storage_class:
            query += " AND class = ?"
            args.append(storage_class)
        if metric:
            query += " AND metric = ?"
            args.append(metric)
        return [tuple(r) for r in self.db.execute(query + " ORDER BY 1, 2, 3, 4", args)]

    def series(self, key: tuple[str, str, str, str]) -> list[Point]:
        """One (class, job, mode, metric) over the stored runs, oldest first (medians)."""
        values: dict[str, list[float]] = {}
        started: dict[str, str] = {}
        for run_id, when, value in self.db.execute(
                "SELECT s.run_id, r.started, s.value FROM samples s JOIN runs r"
                " ON r.id = s.run_id WHERE s.class = ? AND s.job = ? AND s.mode = ?"
                " AND s.metric = ? ORDER BY r.seq, s.repeat", key):
            values.setdefault(run_id, []).append(value)
            started[run_id] = when or ""
        return [Point(r, started[r], statistics.median(v)) for r, v in values.items()]

    def class_fingerprints(self) -> list[tuple[str, dict[str, str], dict[str, tuple[str, str]]]]:
        """Per run (oldest first): id, cluster versions, class -> (provisioner, paramsHash)."""
        out = []
        for run_id, cluster in self.db.execute("SELECT id, cluster_json FROM runs ORDER BY seq"):
            classes = {n: (p or "", h or "") for n, p, h in self.db.execute(
                "SELECT name, provisioner, params_hash FROM classes WHERE run_id = ?",
                (run_id,))}
            out.append((run_id, json.loads(cluster or "{}"), classes))
        return out
