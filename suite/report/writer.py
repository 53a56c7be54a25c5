"""Writing a run's reports once, into ``<report dir>/<run id>/`` plus a ``latest`` link.

matrix.json is validated against the schema; a violation (a suite bug) is reported as
a problem that fails the run, but the files are still written so no results are lost.
The other formats are views of it. The HTML and performance Markdown come from their own modules
when installed, and a renderer failure costs only its own file.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from suite.report.markdown import render_markdown
from suite.report.matrix import CSV_COLUMNS, cells_frame
from suite.report.schema import MatrixSchemaError, validate_matrix


def write_json(path: Path, matrix: dict[str, Any]) -> None:
    path.write_text(json.dumps(matrix, indent=2, sort_keys=False, default=str) + "\n")


def write_matrix_csv(path: Path, matrix: dict[str, Any]) -> None:
    cells_frame(matrix).to_csv(path, index=False, columns=CSV_COLUMNS)


def write_fio_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """fio.csv: one row per class x job x repeat, columns as the perf family gives them."""
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns or ["storageClass", "job"])
        writer.writeheader()
        writer.writerows(rows)


def _link_latest(report_dir: Path, run_dir: Path) -> None:
    latest = report_dir / "latest"
    tmp = report_dir / f".latest-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_dir.name)
    os.replace(tmp, latest)  # atomic: readers never see a missing link


def write_reports(report_dir: Path, matrix: dict[str, Any],
                  fio_rows: list[dict[str, Any]]) -> tuple[Path, list[str]]:
    """Write every format; returns the run folder and the problems (one line each)."""
    problems: list[str] = []
    try:
        validate_matrix(matrix)
    except MatrixSchemaError as exc:  # a suite bug: say so loudly, but keep the results
        problems.append(f"{exc} (written anyway; please report this as a bug)")
    run_dir = report_dir / matrix["run"]["id"]
    run_dir.mkdir(parents=True, exist_ok=True)
    steps: list[tuple[str, Callable[[], None]]] = [
        ("matrix.json", lambda: write_json(run_dir / "matrix.json", matrix)),
        ("matrix.csv", lambda: write_matrix_csv(run_dir / "matrix.csv", matrix)),
        ("matrix.md", lambda: _write_markdown(run_dir / "matrix.md", matrix, problems)),
        ("fio.csv", lambda: write_fio_csv(run_dir / "fio.csv", fio_rows)),
        ("matrix.html", lambda: _write_html(run_dir / "matrix.html", matrix)),
    ]
    for name, step in steps:
        try:
            step()
        except Exception as exc:  # one broken renderer must not cost the other reports
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
    _link_latest(report_dir, run_dir)
    return run_dir, problems


def _write_markdown(path: Path, matrix: dict[str, Any], problems: list[str]) -> None:
    try:
        text = render_markdown(matrix)
    except Exception as exc:  # the fio tables failed: keep the capability part
        problems.append(f"matrix.md performance section: {type(exc).__name__}: {exc}")
        text = render_markdown(matrix, performance=False)
    path.write_text(text)


def _write_html(path: Path, matrix: dict[str, Any]) -> None:
    from suite.report.html import render_html  # matplotlib loads when a report is written

    path.write_text(render_html(matrix))
