"""Offline commands over the history: ``history`` (stored runs, trends, change points)
and ``compare A B`` (the run-time comparison, from the store or report folders).

Wired into the ``kvstorage`` console script; meanwhile ``python -m suite.history
history|compare ...``. User mistakes end with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import NoReturn

from suite.config.errors import ConfigError
from suite.config.profile import Regression, load_profile
from suite.history.changepoints import METHOD
from suite.history.compare import compare
from suite.history.record import RunRecord, from_report_dir
from suite.history.report import render_markdown
from suite.history.store import HistoryStore
from suite.history.trends import trends

DEFAULT_HISTORY = Path("reports") / "history.sqlite"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line and exit 2, as argparse, no usage dump
        raise ConfigError(f"{self.prog}: {message}")


def _store(path: Path) -> HistoryStore:
    if not path.is_file():
        raise ConfigError(f"no history at {path} (give --history PATH)")
    return HistoryStore(path)


def _history(argv: list[str]) -> int:
    parser = _Parser(prog="kvstorage history",
                     description="stored runs, and change points per class/job/metric")
    parser.add_argument("--history", type=Path, default=DEFAULT_HISTORY, metavar="PATH")
    parser.add_argument("--class", dest="storage_class", default=None, metavar="NAME")
    parser.add_argument("--metric", default=None, help="e.g. readIops, lat_p99_us")
    parser.add_argument("--series", action="store_true", help="print every run's median")
    args = parser.parse_args(argv)
    with _store(args.history) as store:
        runs = store.runs()
        found = trends(store, args.storage_class, args.metric)
    out = sys.stdout.write
    out(f"{len(runs)} run(s) in {args.history}\n")
    out(f"{'#':>3}  {'run id':<28} {'started':<21} {'profile':<12} {'state':<10} "
        "classes cells samples\n")
    for i, r in enumerate(runs, 1):
        state = "complete" if r.complete else "incomplete"
        out(f"{i:>3}  {r.id:<28} {r.started:<21} {r.profile:<12} {state:<10} "
            f"{r.classes:>7} {r.cells:>5} {r.samples:>7}\n")
    out(f"\nchange points ({METHOD}):\n")
    shown = 0
    for trend in found:
        for line in trend.lines:
            for position, change in line.changes:
                shown += 1
                run_id = runs[position - 1].id
                out(f"  {trend.storage_class} {line.job} ({line.mode}) {trend.metric}: "
                    f"change point at run {position} ({run_id}): {change.before:.4g} -> "
                    f"{change.after:.4g} ({change.change:+.1%})\n")
            if args.series:
                values = " ".join(f"{x}:{p.value:.4g}" for x, p in line.points)
                out(f"  {trend.storage_class} {line.job} ({line.mode}) {trend.metric} "
                    f"series: {values}\n")
        for position, text in trend.marks:
            out(f"  {trend.storage_class}: at run {position}: {text}\n")
    if not shown:
        out("  none\n")
    return 0


def _record(spec: str, history: Path) -> RunRecord:
    if Path(spec).is_dir():
        return from_report_dir(Path(spec))
    with _store(history) as store:
        return store.load(spec)


def _compare(argv: list[str]) -> int:
    parser = _Parser(prog="kvstorage compare",
                     description="compare run B with baseline A (run ids or report folders)")
    parser.add_argument("baseline", metavar="A")
    parser.add_argument("current", metavar="B")
    parser.add_argument("--history", type=Path, default=DEFAULT_HISTORY, metavar="PATH")
    parser.add_argument("--profile", default=None, metavar="NAME|FILE",
                        help="take thresholds and significance from this profile")
    parser.add_argument("--fail-on", choices=("regression", "never"), default="never")
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON")
    args = parser.parse_args(argv)
    settings = load_profile(args.profile).regression if args.profile else Regression()
    base, cur = _record(args.baseline, args.history), _record(args.current, args.history)
    comp = compare(base, cur, settings, args.baseline)
    if args.json:
        sys.stdout.write(json.dumps(comp.as_dict(), indent=2, default=str) + "\n")
    else:
        sys.stdout.write(render_markdown(comp))
    return 1 if args.fail_on == "regression" and comp.regressions() else 0


def _guarded(command: str, argv: list[str]) -> int:
    try:
        return {"history": _history, "compare": _compare}[command](argv)
    except ConfigError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2


def history_command(argv: list[str]) -> int:
    """``kvstorage history [--history PATH] [--class NAME] [--metric M] [--series]``."""
    return _guarded("history", argv)


def compare_command(argv: list[str]) -> int:
    """``kvstorage compare A B [--history PATH] [--profile P] [--fail-on regression]``."""
    return _guarded("compare", argv)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ("history", "compare"):
        sys.stderr.write("usage: python -m suite.history history|compare ...\n")
        return 2
    return _guarded(args[0], args[1:])
