"""The side-by-side report's two views: one self-contained HTML page and Markdown.

Both read the model of ``suite.report.sidebyside.report_model``; the HTML adds one
chart per fio job drawn by the matrix page's own chart code (matplotlib to inline
SVG, no scripts), with every run's classes as series so runs compare at a glance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from suite.report.html import job_chart
from suite.report.sidebyside_stats import symbol

_TEMPLATES = Path(__file__).parent / "templates"
VERDICT_MARK = {"supported": "✅", "unsupported": "⛔", "broken": "❌", "inconclusive": "❔",
                "skipped": "⏭", "": "-"}
FITNESS_MARK = {"fit": "✅ fit", "marginal": "⚠️ marginal", "unfit": "❌ unfit",
                "not-assessed": "❔ n/a", "": "-"}


def render_html(model: dict[str, Any], jobs: dict[str, list[tuple[str, dict[str, Any]]]]
                ) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_TEMPLATES), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    charts = [{"name": name, "chart": job_chart(name, entries),
               "series": [label for label, _ in entries]} for name, entries in jobs.items()]
    marks = [{**m, "symbol": symbol(m)} for m in model["significance"]]
    return env.get_template("sidebyside.html.j2").render(m=model, charts=charts, marks=marks)


def _esc(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    return ["| " + " | ".join(_esc(h) for h in header) + " |",
            "|" + "---|" * len(header),
            *("| " + " | ".join(_esc(c) for c in row) + " |" for row in rows)]


def _changed(text: str, cell: dict[str, Any]) -> str:
    return f"**{text}** (was {cell['before'] or 'absent'})" if cell["changed"] else text


def _num(value: Any) -> str:
    return f"{value:,.1f}" if isinstance(value, int | float) else "-"


def render_markdown(model: dict[str, Any]) -> str:
    cols = model["columns"]
    lines = ["# KubeVirt storage: runs side by side", ""]
    lines += [f"- `{r['label']}`: profile `{r['profile']}`, cluster "
              f"{r['cluster'].get('server', '?')} (Kubernetes "
              f"{r['cluster'].get('kubernetesVersion', '?')}), {r['source']}"
              for r in model["runs"]]
    lines += ["", "Cells in **bold** differ from the first run's verdict for the same class.",
              "", "## Capabilities", ""]
    lines += _table(["capability", *cols], [
        [f"`{row['capability']}`" + (" ≠" if row["differs"] else ""),
         *(_changed(f"{VERDICT_MARK.get(c['verdict'], '')} {c['verdict']}".strip(), c)
           for c in row["cells"])] for row in model["capabilities"]])
    if model["scorecard"]:
        lines += ["", "## Workload scorecards", ""]
        lines += _table(["workload", *cols], [
            [f"`{row['workload']}`" + (" ≠" if row["differs"] else ""),
             *(_changed(FITNESS_MARK.get(c["fitness"], c["fitness"]), c) for c in row["cells"])]
            for row in model["scorecard"]])
    if model["bootstorm"]:
        lines += ["", "## Boot storms", ""]
        lines += _table(["class", "verdict", "VMs", "clone p95 s", "login p50 s",
                         "login p95 s", "login max s", "image read p95 s", "strategy"], [
            [b["column"], b["verdict"], b["vms"] if b["vms"] is not None else "-",
             _num(b["clone"].get("p95")),
             _num(b["login"].get("p50")), _num(b["login"].get("p95")),
             _num(b["login"].get("max")), _num(b["ready"].get("p95")),
             b["strategies"] + (f" (fallback: {b['fallbacks']})" if b["fallbacks"] else "")]
            for b in model["bootstorm"]])
    if model["significance"]:
        lines += ["", "## fio against the first run (Mann-Whitney U over repeats, alpha 0.05)", "",
                  "▲ significantly better, ▼ significantly worse, ≈ not significant, "
                  "? not enough repeats to tell", ""]
        lines += _table(["class", "job", "metric", "first run", "this run", "change", "mark",
                         "p"], [
            [m["column"], f"{m['job']} {m['volumeMode']}".strip(), m["unit"],
             _num(m["baseline"]), _num(m["value"]),
             f"{m['change']:+.1%}" if m.get("change") is not None else "-",
             f"{symbol(m)} {m['status']}",
             m.get("p", f"≥ {m['smallestP']}" if "smallestP" in m else "-")]
            for m in model["significance"]])
    return "\n".join(lines) + "\n"
