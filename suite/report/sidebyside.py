"""``kvstorage compare RUN_DIR... --out DIR``: several runs side by side.

A buyer runs the suite on several clusters or products and wants one page: the
capability matrices aligned by capability (a cell that differs from the first run's
verdict for the same class is marked), the workload scorecards, the fio charts with
every run's classes as series, the boot storm figures, and significance marks from a
Mann-Whitney U test over the fio repeats (``sidebyside_stats``). Inputs are report
folders (``reports/<run-id>``, ``reports/latest``) or matrix.json files; the output is
``compare.html`` (self-contained, opens offline) and ``compare.md`` in ``--out``.

Runnable as ``python -m suite.report.sidebyside``; every user mistake is one line.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from suite.checks.base import CAPABILITIES
from suite.config.errors import ConfigError
from suite.report.sidebyside_stats import METRICS, compare

FITNESS_ORDER = ("fit", "marginal", "unfit", "not-assessed")


@dataclass
class Run:
    label: str
    source: Path
    matrix: dict[str, Any]

    @property
    def classes(self) -> list[dict[str, Any]]:
        return list(self.matrix.get("storageClasses") or [])

    def klass(self, name: str) -> dict[str, Any] | None:
        return next((sc for sc in self.classes if sc.get("name") == name), None)


@dataclass
class Column:
    run: Run
    sc: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.run.label} / {self.sc['name']}"


def load_run(path: Path) -> Run:
    """A report folder or a matrix.json file; errors are one line."""
    file = path / "matrix.json" if path.is_dir() else path
    if not file.is_file():
        what = "has no matrix.json" if path.is_dir() else "does not exist"
        raise ConfigError(f"compare: {path} {what} (give a report folder such as "
                          "reports/<run-id> or a matrix.json file)")
    try:
        matrix = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"compare: {file} is not a readable matrix.json ({exc})") from None
    if not isinstance(matrix, dict) or not isinstance(matrix.get("storageClasses"), list):
        raise ConfigError(f"compare: {file} is not a suite matrix.json (no storageClasses)")
    run = matrix.get("run") or {}
    return Run(str(run.get("id") or file.parent.name), file, matrix)


def load_runs(paths: list[Path]) -> list[Run]:
    runs = [load_run(p) for p in paths]
    seen: dict[str, int] = {}
    for run in runs:  # the same run id twice (a copy, a rerun): keep labels apart
        seen[run.label] = seen.get(run.label, 0) + 1
        if seen[run.label] > 1:
            run.label = f"{run.label}#{seen[run.label]}"
    for run in runs:
        if "workloads" not in run.matrix:  # an older run: judge it with today's workloads
            from suite.report.scorecard import add_scorecard

            run.matrix = copy.deepcopy(run.matrix)
            add_scorecard(run.matrix)
    return runs


def columns(runs: list[Run]) -> list[Column]:
    return [Column(run, sc) for run in runs for sc in run.classes]


def _baseline(runs: list[Run], column: Column) -> dict[str, Any] | None:
    """The same class in the first run that has it, when that is another run."""
    for run in runs:
        sc = run.klass(column.sc["name"])
        if sc is not None:
            return None if run is column.run else sc
    return None


def capability_rows(runs: list[Run]) -> list[dict[str, Any]]:
    cols = columns(runs)
    seen = {cap for c in cols for cap in c.sc.get("capabilities") or {}}
    caps = [c for c in CAPABILITIES if c in seen] + sorted(seen - set(CAPABILITIES))
    rows = []
    for cap in caps:
        cells = []
        for col in cols:
            cell = (col.sc.get("capabilities") or {}).get(cap) or {}
            base = _baseline(runs, col)
            before = ((base or {}).get("capabilities") or {}).get(cap, {}).get("verdict")
            verdict = cell.get("verdict", "")
            cells.append({"verdict": verdict, "reason": cell.get("reason", "not assessed"),
                          "changed": base is not None and before != verdict,
                          "before": before})
        rows.append({"capability": cap, "cells": cells,
                     "differs": any(c["changed"] for c in cells)})
    return rows


def scorecard_rows(runs: list[Run]) -> list[dict[str, Any]]:
    cols = columns(runs)
    names = list(dict.fromkeys(d["name"] for r in runs
                               for d in (r.matrix.get("workloads") or {}).get("definitions", [])))
    rows = []
    for name in names:
        cells = []
        for col in cols:
            entry = (col.sc.get("workloads") or {}).get(name) or {}
            base = _baseline(runs, col)
            before = ((base or {}).get("workloads") or {}).get(name, {}).get("fitness")
            fitness = entry.get("fitness", "")
            cells.append({"fitness": fitness, "reason": entry.get("reason", ""),
                          "changed": base is not None and before != fitness,
                          "before": before})
        rows.append({"workload": name, "cells": cells,
                     "differs": any(c["changed"] for c in cells)})
    return rows


def fio_jobs(runs: list[Run]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Per fio job name: (column label, entry) for every class of every run that ran it."""
    jobs: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for col in columns(runs):
        for entry in (col.sc.get("performance") or {}).get("fio") or []:
            label = col.label + (f" ({entry['volumeMode']})" if entry.get("volumeMode") else "")
            jobs.setdefault(str(entry.get("job")), []).append((label, entry))
    return jobs


def significance(runs: list[Run]) -> list[dict[str, Any]]:
    """Each later run's fio figures against the first run that has the same class."""
    marks = []
    for col in columns(runs):
        base = _baseline(runs, col)
        if base is None:
            continue
        ours = {(e.get("job"), e.get("volumeMode")): e
                for e in (col.sc.get("performance") or {}).get("fio") or []}
        for entry in (base.get("performance") or {}).get("fio") or []:
            other = ours.get((entry.get("job"), entry.get("volumeMode")))
            if other is None:
                continue
            for metric, unit, direction in METRICS:
                mark = compare(entry, other, metric, direction)
                if mark["baseline"] or mark["value"]:
                    marks.append({"column": col.label, "job": entry.get("job"),
                                  "volumeMode": entry.get("volumeMode") or "", "unit": unit,
                                  **mark})
    return marks


def bootstorm_rows(runs: list[Run]) -> list[dict[str, Any]]:
    rows = []
    for col in columns(runs):
        cell = (col.sc.get("capabilities") or {}).get("scale.bootstorm")
        if not cell or cell.get("verdict") in ("skipped", None):
            continue
        ev = cell.get("evidence") or {}
        rows.append({"column": col.label, "verdict": cell.get("verdict"),
                     "vms": ev.get("vms"), "clone": ev.get("cloneSeconds") or {},
                     "login": ev.get("loginSeconds") or {},
                     "ready": ev.get("readySeconds") or {},
                     "strategies": ", ".join(f"{k} x{n}" for k, n in
                                             (ev.get("cloneStrategies") or {}).items()),
                     "fallbacks": "; ".join(ev.get("fallbackReasons") or {}),
                     "reason": cell.get("reason", "")})
    return rows


def report_model(runs: list[Run]) -> dict[str, Any]:
    return {"runs": [{"label": r.label, "source": str(r.source),
                      "profile": (r.matrix.get("run") or {}).get("profile", "?"),
                      "cluster": (r.matrix.get("run") or {}).get("cluster") or {},
                      "started": (r.matrix.get("run") or {}).get("started", "")}
                     for r in runs],
            "columns": [c.label for c in columns(runs)],
            "capabilities": capability_rows(runs), "scorecard": scorecard_rows(runs),
            "bootstorm": bootstorm_rows(runs), "significance": significance(runs)}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kvstorage compare",
        description="Several suite runs side by side in one HTML page and one Markdown file.")
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR",
                        help="report folders (reports/<run-id>) or matrix.json files")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder for compare.html and compare.md")
    return parser


def sidebyside_command(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if len(args.runs) < 2:
            raise ConfigError("compare: give at least two runs to put side by side")
        runs = load_runs([Path(p) for p in args.runs])
        out = Path(args.out)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"compare: cannot create --out {out}: {exc.strerror}") from None
        from suite.report.sidebyside_render import render_html, render_markdown

        model = report_model(runs)
        try:
            (out / "compare.html").write_text(render_html(model, fio_jobs(runs)))
            (out / "compare.md").write_text(render_markdown(model))
        except OSError as exc:
            raise ConfigError(f"compare: cannot write into {out}: {exc.strerror}") from None
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"compared {len(runs)} runs: {out / 'compare.html'}, {out / 'compare.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(sidebyside_command())
