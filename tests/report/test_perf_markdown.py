"""The Markdown performance tables match the matrix figures."""

from __future__ import annotations

from typing import Any

from suite.report.perf_markdown import render


def test_one_table_per_job_with_every_class(matrix: dict[str, Any]) -> None:
    text = render(matrix)
    assert text.count("### ") == 2
    assert "### lat-randread" in text and "### bw-read" in text
    rows = [line for line in text.splitlines() if line.startswith("| lab-")]
    assert len(rows) == 4
    header = next(line for line in text.splitlines() if line.startswith("| StorageClass"))
    for column in ("read IOPS", "p50 µs", "p99 µs", "p99.9 µs", "p99.99 µs", "max µs", "valid"):
        assert column in header


def test_figures_are_the_matrix_values(matrix: dict[str, Any]) -> None:
    entry = matrix["storageClasses"][0]["performance"]["fio"][0]
    text = render(matrix)
    row = next(line for line in text.splitlines()
               if line.startswith("| lab-fast") and f"{entry['readIops']:,.0f}" in line)
    assert f"{entry['latencyUs']['p99']:,.1f}" in row


def test_failed_validity_is_spelled_out(matrix: dict[str, Any]) -> None:
    entry = dict(matrix["storageClasses"][0]["performance"]["fio"][0])
    entry["validity"] = {**entry["validity"],
                         "prefill": {"ok": False, "detail": "no prefill ran"}}
    text = render({"storageClasses": [{"name": "x", "performance": {"fio": [entry]}}]})
    assert "NO: prefill: no prefill ran" in text


def test_no_figures_is_said_plainly() -> None:
    assert "No fio figures" in render({"storageClasses": [{"name": "x", "capabilities": {}}]})


def test_volume_modes_of_one_class_are_told_apart(matrix: dict[str, Any]) -> None:
    entry = matrix["storageClasses"][0]["performance"]["fio"][0]
    sc = {"name": "lab-x", "performance": {"fio": [{**entry, "volumeMode": "Block"},
                                                   {**entry, "volumeMode": "Filesystem"}]}}
    text = render({"storageClasses": [sc]})
    assert "| lab-x (Block) |" in text and "| lab-x (Filesystem) |" in text
