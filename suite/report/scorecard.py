"""The workload scorecard: in matrix.json, and as Markdown, terminal and HTML views.

matrix.json gets a top-level ``workloads`` section (its own versioned schema id, the
definitions judged, so a reader sees the thresholds) and each class a ``workloads``
map of its verdicts. Renderers read only that section, so a scorecard rebuilt offline
(``add_scorecard`` on an old matrix.json with other workload files) renders the same.
"""

from __future__ import annotations

from typing import Any

from suite.report.schema import WORKLOADS_SCHEMA_ID as SCORECARD_SCHEMA
from suite.workloads.judging import judge
from suite.workloads.loading import load_workloads
from suite.workloads.model import Workload

MARK = {"fit": "✅ fit", "marginal": "⚠️ marginal", "unfit": "❌ unfit",
        "not-assessed": "❔ not assessed"}
SHORT = {"fit": "fit", "marginal": "marginal", "unfit": "UNFIT", "not-assessed": "n/a"}


def add_scorecard(matrix: dict[str, Any], workloads: list[Workload] | None = None) -> None:
    """Judge every class of `matrix` for `workloads` (default: the built-in ones)."""
    chosen = load_workloads([]) if workloads is None else workloads
    matrix["workloads"] = {"schema": SCORECARD_SCHEMA,
                           "definitions": [w.to_json() for w in chosen]}
    for sc in matrix.get("storageClasses", []):
        sc["workloads"] = {w.name: judge(w, sc) for w in chosen}


def workload_names(matrix: dict[str, Any]) -> list[str]:
    return [str(d["name"]) for d in (matrix.get("workloads") or {}).get("definitions", [])]


def _certainty(entry: dict[str, Any]) -> str:
    decided = entry.get("decidedBy") or {}
    sure = decided.get("certainty") or {}
    if not sure:
        return ""
    if sure.get("spread") is None:
        return f"{sure.get('samples', 0)} sample(s), {sure.get('confidence')}"
    return (f"{sure['samples']} samples, spread {sure['spread']:.1%}, "
            f"{sure.get('confidence')}")


def rows(matrix: dict[str, Any]) -> list[dict[str, str]]:
    """One row per class x workload: fitness, the deciding reason and how sure."""
    out = []
    for sc in matrix.get("storageClasses", []):
        for name, entry in (sc.get("workloads") or {}).items():
            out.append({"storageClass": sc["name"], "workload": name,
                        "fitness": entry["fitness"], "reason": entry["reason"],
                        "certainty": _certainty(entry)})
    return out


def markdown_lines(matrix: dict[str, Any]) -> list[str]:
    names = workload_names(matrix)
    if not names:
        return []
    classes = matrix.get("storageClasses", [])
    lines = ["", "## Workload scorecard", "",
             "| workload | " + " | ".join(sc["name"] for sc in classes) + " |",
             "|---|" + "---|" * len(classes)]
    for name in names:
        cells = [MARK.get(((sc.get("workloads") or {}).get(name) or {}).get("fitness", ""), "")
                 for sc in classes]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    lines += ["", "| class | workload | verdict | decided by | how sure |", "|---|---|---|---|---|"]
    for row in rows(matrix):
        reason = row["reason"].replace("|", "\\|")
        lines.append(f"| {row['storageClass']} | `{row['workload']}` | {row['fitness']} | "
                     f"{reason} | {row['certainty']} |")
    return lines


def terminal_lines(matrix: dict[str, Any]) -> list[str]:
    names = workload_names(matrix)
    classes = matrix.get("storageClasses", [])
    if not names or not classes:
        return []
    header = ["workload", *(sc["name"] for sc in classes)]
    table = [[name, *(SHORT.get(((sc.get("workloads") or {}).get(name) or {})
                                .get("fitness", ""), "-") for sc in classes)]
             for name in names]
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    lines = ["workload scorecard:",
             "  " + "  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in table]
    decided = [f"  {r['storageClass']} {r['workload']}: {r['fitness']}: {r['reason']}"
               for r in rows(matrix) if r["fitness"] in ("unfit", "marginal")]
    return lines + decided


def html_context(matrix: dict[str, Any]) -> dict[str, Any]:
    """What the HTML templates need: workloads down, classes across, details below."""
    classes = matrix.get("storageClasses", [])
    grid = []
    for name in workload_names(matrix):
        cells = []
        for sc in classes:
            entry = (sc.get("workloads") or {}).get(name) or {}
            cells.append({"fitness": entry.get("fitness", ""),
                          "css": str(entry.get("fitness", "none")).replace("-", ""),
                          "reason": entry.get("reason", ""), "certainty": _certainty(entry)})
        grid.append({"workload": name, "cells": cells})
    return {"classes": [sc["name"] for sc in classes], "grid": grid,
            "definitions": (matrix.get("workloads") or {}).get("definitions", [])}
