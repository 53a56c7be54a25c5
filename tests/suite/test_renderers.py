"""Renderers against golden files (regenerate with KVS_UPDATE_GOLDEN=1 and review the diff)."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from suite.checks.base import CAPABILITIES
from suite.report.markdown import render_markdown
from suite.report.matrix import CSV_COLUMNS, cells_frame
from suite.report.terminal import counts_line, disagreement_lines, summary_lines
from suite.report.writer import write_reports
from tests.suite.sample import sample_matrix

GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("KVS_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs from its golden file"


def test_markdown_golden() -> None:
    check_golden("matrix.md", render_markdown(sample_matrix(), performance=False))


def test_terminal_summary_golden() -> None:
    matrix = sample_matrix()
    lines = [*summary_lines(matrix), *disagreement_lines(matrix), counts_line(matrix)]
    check_golden("summary.txt", "\n".join(lines) + "\n")


def test_csv_golden() -> None:
    buffer = io.StringIO()
    cells_frame(sample_matrix()).to_csv(buffer, index=False, columns=CSV_COLUMNS)
    check_golden("matrix.csv", buffer.getvalue())


def test_write_reports_creates_every_file_and_latest(tmp_path: Path) -> None:
    matrix = sample_matrix()
    rows = [{"storageClass": "rbd", "job": "lat-randread", "repeat": 1, "readIops": 1000.0}]
    run_dir, problems = write_reports(tmp_path, matrix, rows)
    assert run_dir == tmp_path / "kvs-golden"
    assert json.loads((run_dir / "matrix.json").read_text()) == matrix
    with (run_dir / "matrix.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 2 * len(CAPABILITIES)  # 2 classes
    with (run_dir / "fio.csv").open() as handle:
        assert next(iter(csv.DictReader(handle)))["job"] == "lat-randread"
    assert (tmp_path / "latest").resolve() == run_dir.resolve()
    assert "### rbd (`rbd.csi.example.io`)" in (run_dir / "matrix.md").read_text()
    # HTML and the fio tables come from the fio/HTML part; they must not break ours.
    assert not [p for p in problems if not p.startswith(("matrix.html", "matrix.md"))]


def test_a_matrix_outside_the_schema_is_reported_but_kept(tmp_path: Path) -> None:
    matrix = sample_matrix()
    matrix["storageClasses"][0]["capabilities"]["clone.volume"]["verdict"] = "fine"
    run_dir, problems = write_reports(tmp_path, matrix, [])
    assert problems[0].startswith("matrix.json at storageClasses/0/capabilities/clone.volume")
    assert json.loads((run_dir / "matrix.json").read_text()) == matrix
