"""The "Compared with <baseline>" section and the trend charts, for matrix.md and
matrix.html.

Regressions come first (cells that stopped being ``supported``, then metrics that
``regressed``), then improvements, then what could not be decided and why
(``too-noisy``, ``not-enough-samples``); each metric line carries the figures that
decided it. The HTML adds a trend chart per class and metric over the stored history.
``extend_reports`` adds both to a run folder the writer has already filled.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from markupsafe import Markup

from suite.history.compare import Comparison
from suite.history.stats import Decision
from suite.history.store import HistoryStore
from suite.history.trend_chart import trend_chart
from suite.history.trends import trends

_UNDECIDED = ("too-noisy", "not-enough-samples")


def _num(value: float | None, fmt: str = "{:.4g}") -> str:
    return "-" if value is None else fmt.format(value)


def _metric_row(d: Decision) -> list[str]:
    return [d.storage_class, d.name, d.decision, _num(d.baseline_median),
            _num(d.current_median), _num(d.change, "{:+.1%}"), f"{d.threshold:.0%}",
            _num(d.p_value, "{:.3g}"), _num(d.spread, "{:.1%}"), d.why]


HEAD = ["class", "metric", "decision", "baseline median", "current median", "change",
        "threshold", "p (U test)", "spread", "why"]


def sections(comp: Comparison) -> list[tuple[str, list[list[str]]]]:
    """The section's parts in reading order: (title, rows), rows matching HEAD."""
    cells = [[t.storage_class, t.capability, "regression", t.before or "-", t.after, "", "",
              "", "", t.reason] for t in comp.transitions if t.regression]
    other = [[t.storage_class, t.capability, "changed", t.before or "(new)", t.after, "", "",
              "", "", t.reason] for t in comp.transitions if t.changed and not t.regression]
    return [
        ("Regressions", cells + [_metric_row(d) for d in comp.by_decision("regressed")]),
        ("Improvements", [_metric_row(d) for d in comp.by_decision("improved")]),
        ("Could not be decided", [_metric_row(d) for d in comp.by_decision(*_UNDECIDED)]),
        ("Other verdict changes", other),
        ("Unchanged", [_metric_row(d) for d in comp.by_decision("unchanged")]),
    ]


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(comp: Comparison) -> str:
    lines = [f"## Compared with {comp.baseline}", ""]
    if comp.fingerprint_changes:
        lines += ["What changed since the baseline: " + "; ".join(comp.fingerprint_changes),
                  ""]
    for title, rows in sections(comp):
        lines.append(f"### {title} ({len(rows)})")
        lines.append("")
        if not rows:
            lines += ["none", ""]
            continue
        lines.append("| " + " | ".join(HEAD) + " |")
        lines.append("|" + "---|" * len(HEAD))
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
        lines.append("")
    return "\n".join(lines) + "\n"


_ENV = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
_HTML = _ENV.from_string("""
<section class="comparison">
{% if comp %}
<h2>Compared with {{ comp.baseline }}</h2>
{% if comp.fingerprint_changes %}<p>What changed since the baseline:
{{ comp.fingerprint_changes | join("; ") }}</p>{% endif %}
{% for title, rows in parts %}
<h3>{{ title }} ({{ rows | length }})</h3>
{% if rows %}
{% if title == "Unchanged" %}<details><summary>show</summary>{% endif %}
<table><thead><tr>{% for h in head %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>
{% for row in rows %}<tr class="{{ row[2] }}">{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
{% if title == "Unchanged" %}</details>{% endif %}
{% else %}<p>none</p>{% endif %}
{% endfor %}
{% elif note %}<h2>Baseline</h2><p>{{ note }}</p>
{% endif %}
{% if charts %}
<h2>Trends over the stored history</h2>
<p>Run medians per job; red lines mark change points (PELT), dashed lines mark
fingerprint changes at the first run they appear in.</p>
{% for title, svg in charts %}<div class="trend" id="trend-{{ title }}">{{ svg }}</div>
{% endfor %}
{% endif %}
</section>
""")


def render_html(comp: Comparison | None, charts: list[tuple[str, Markup]],
                note: str | None = None) -> str:
    parts = sections(comp) if comp else []
    return _HTML.render(comp=comp, parts=parts, head=HEAD, charts=charts, note=note)


def history_charts(history: Path | None, classes: list[str] | None = None
                   ) -> list[tuple[str, Markup]]:
    if history is None or not history.is_file():
        return []
    with HistoryStore(history) as store:
        runs = len(store.runs())
        found = trends(store)
    if runs < 2:
        return []
    return [(f"{t.storage_class}-{t.metric}", trend_chart(t, runs)) for t in found
            if classes is None or t.storage_class in classes]


def extend_reports(run_dir: Path, comp: Comparison | None, history: Path | None,
                   note: str | None = None) -> None:
    """Add the comparison (and the trends) to matrix.md and matrix.html in ``run_dir``."""
    md = run_dir / "matrix.md"
    if comp is not None and md.is_file():
        md.write_text(md.read_text().rstrip("\n") + "\n\n" + render_markdown(comp))
    page = run_dir / "matrix.html"
    charts = history_charts(history)
    if page.is_file() and (comp is not None or charts or note):
        text = page.read_text()
        block = render_html(comp, charts, note)
        at = text.rfind("</body>")
        page.write_text(text[:at] + block + text[at:] if at >= 0 else text + block)
