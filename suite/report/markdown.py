"""matrix.md: the verdict grid, declared-vs-observed, reasons, and the performance tables.

Readable as plain text in a terminal or a merge request; the performance section comes
from ``suite.report.perf_markdown`` when that module is installed.
"""

from __future__ import annotations

from typing import Any

from suite.report.matrix import cells_frame, verdict_grid

MARK = {"supported": "✅ supported", "unsupported": "⛔ unsupported", "broken": "❌ BROKEN",
        "inconclusive": "❔ inconclusive", "skipped": "⏭ skipped", "": ""}


def _escape(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(_escape(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_escape(c) for c in row) + " |" for row in rows]
    return lines


def _run_lines(run: dict[str, Any]) -> list[str]:
    cluster = run["cluster"]
    lines = [f"- run `{run['id']}`, profile `{run['profile']}`, suite {run['suiteVersion']}",
             f"- {run['started']} → {run['finished']}",
             f"- cluster {cluster['server']} (Kubernetes {cluster['kubernetesVersion']}, "
             f"KubeVirt {cluster['kubevirtVersion'] or '?'}, CDI {cluster['cdiVersion'] or '?'})"]
    if run.get("interrupted"):
        lines.append("- **interrupted**: unfinished cells are inconclusive")
    return lines


def _grid_lines(matrix: dict[str, Any]) -> list[str]:
    grid = verdict_grid(matrix)
    if grid.empty:
        return ["(no StorageClass assessed)"]
    rows = [[f"`{cap}`", *(MARK[v] for v in grid.loc[cap])] for cap in grid.index]
    return _table(["capability", *grid.columns], rows)


def _detail_lines(matrix: dict[str, Any]) -> list[str]:
    frame = cells_frame(matrix)
    lines: list[str] = []
    for name, group in frame.groupby("storageClass", sort=False):
        provisioner = group["provisioner"].iloc[0]
        lines += ["", f"### {name} (`{provisioner}`)", ""]
        rows = [[f"`{r.capability}`", r.verdict, r.declaredVsObserved, r.reason,
                 f"{r.seconds:.1f}"] for r in group.itertuples()]
        lines += _table(["capability", "verdict", "declared / observed", "reason", "s"], rows)
    return lines


def _perf_lines(matrix: dict[str, Any]) -> list[str]:
    try:
        from suite.report.perf_markdown import render
    except ImportError:
        return []
    text = render(matrix).strip()
    return ["", text] if text else []


def _scorecard_lines(matrix: dict[str, Any]) -> list[str]:
    from suite.report.scorecard import markdown_lines

    return markdown_lines(matrix)


def render_markdown(matrix: dict[str, Any], performance: bool = True) -> str:
    """The whole page; ``performance=False`` leaves out the fio section (its own module)."""
    lines = ["# KubeVirt storage capability matrix", "", *_run_lines(matrix["run"]), "",
             *_grid_lines(matrix), *_scorecard_lines(matrix), "", "## Details",
             *_detail_lines(matrix),
             *(_perf_lines(matrix) if performance else [])]
    return "\n".join(lines).rstrip() + "\n"
