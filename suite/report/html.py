"""matrix.html: the whole run on one self-contained page a buyer can open offline.

One file, no CDN, no scripts: inline CSS, charts as inline SVG drawn by
matplotlib's non-interactive Agg/SVG backends (no pyplot, so no global backend
state is touched). The capability matrix is colour-coded by verdict with the
reason on hover and in a details row; evidence sits in expandable <details>;
each fio job gets a chart comparing the classes side by side (latency
percentiles on a log scale, and IOPS or bandwidth).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from matplotlib.figure import Figure

from suite.report.perf_markdown import LAT_KEYS, VALIDITY_KEYS, jobs_by_name, perf_row

_TEMPLATES = Path(__file__).parent / "templates"
_VERDICTS = ("supported", "unsupported", "broken", "inconclusive", "skipped")
_CHART_PCTS = ("p50", "p90", "p99", "p99.9", "p99.99")
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#17becf", "#d62728")
_SAID = {True: "declared", False: "not declared", None: "silent"}


def _capabilities(matrix: dict[str, Any]) -> list[str]:
    caps: dict[str, None] = {}
    for sc in matrix.get("storageClasses", []):
        caps.update(dict.fromkeys(sc.get("capabilities") or {}))
    return list(caps)


def _cell(cap: str, cell: dict[str, Any] | None) -> dict[str, Any]:
    if cell is None:
        return {"cap": cap, "verdict": "", "css": "none", "reason": "not assessed"}
    verdict = str(cell.get("verdict", ""))
    return {"cap": cap, "verdict": verdict,
            "css": verdict if verdict in _VERDICTS else "none",
            "reason": str(cell.get("reason", "")),
            "declared": _SAID.get(cell.get("declared"), "silent"),
            "seconds": cell.get("seconds", ""),
            "evidence": json.dumps(cell.get("evidence", {}), indent=2, sort_keys=True,
                                   default=str)}


def _classes(matrix: dict[str, Any], caps: list[str]) -> list[dict[str, Any]]:
    rows = []
    for sc in matrix.get("storageClasses", []):
        cells = sc.get("capabilities") or {}
        rows.append({"name": sc.get("name", "?"), "provisioner": sc.get("provisioner", ""),
                     "cells": [_cell(cap, cells.get(cap)) for cap in caps],
                     "facts": _facts(sc.get("facts") or {})})
    return rows


def _grid(classes: list[dict[str, Any]], caps: list[str]) -> list[dict[str, Any]]:
    """Capabilities down, classes across: a dozen capabilities fit a page this way."""
    return [{"cap": cap, "cells": [(sc["name"], sc["cells"][i]) for sc in classes]}
            for i, cap in enumerate(caps)]


def _facts(facts: dict[str, Any]) -> list[tuple[str, str]]:
    """Facts as short key/value strings; nested values as compact JSON."""
    out = []
    for key, value in facts.items():
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        out.append((str(key), text if len(text) <= 400 else text[:400] + " …"))
    return out


def _svg(figure: Figure) -> Markup:
    """The figure as an inline <svg> element (no XML prolog, DOCTYPE or metadata URLs)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    return Markup(text)


def _bars(ax: Any, labels: list[str], series: list[tuple[str, list[float]]],
          labelled: bool = False) -> None:
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series):
        positions = [x + (i - (len(series) - 1) / 2) * width for x in range(len(labels))]
        bars = ax.bar(positions, values, width, label=name, color=_PALETTE[i % len(_PALETTE)])
        if labelled:
            ax.bar_label(bars, fmt="{:,.0f}", fontsize=7)
    ax.set_xticks(range(len(labels)), labels)


def _latency_axis(ax: Any, entries: list[tuple[str, dict[str, Any]]]) -> None:
    series = [(sc, [float((e.get("latencyUs") or {}).get(p) or 0) for p in _CHART_PCTS])
              for sc, e in entries]
    _bars(ax, list(_CHART_PCTS), series)
    if any(v > 0 for _, values in series for v in values):
        ax.set_yscale("log")
    ax.set_ylabel("latency (µs, log scale)")
    ax.set_title("latency percentiles")
    ax.legend(fontsize=8)


def _throughput_axis(ax: Any, entries: list[tuple[str, dict[str, Any]]]) -> None:
    options = entries[0][1].get("options") or {}
    bandwidth = int(options.get("bs") or 0) >= 64 * 1024
    keys = ("readBwMiBs", "writeBwMiBs") if bandwidth else ("readIops", "writeIops")
    labels = [sc for sc, _ in entries]
    series = [(name, [float(e.get(key) or 0) for _, e in entries])
              for name, key in zip(("read", "write"), keys, strict=True)]
    series = [s for s in series if any(s[1])] or series[:1]
    _bars(ax, labels, series, labelled=True)
    ax.set_ylabel("MiB/s" if bandwidth else "IOPS")
    ax.set_title("bandwidth" if bandwidth else "IOPS")
    # Class names are long and there can be many: slanted labels anchored at their end
    # stay readable instead of running into each other.
    ax.tick_params(axis="x", labelrotation=35, labelsize=8)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.legend(fontsize=8)


def job_chart(job: str, entries: list[tuple[str, dict[str, Any]]]) -> Markup:
    """Classes side by side for one fio job: latency percentiles and IOPS/bandwidth."""
    figure = Figure(figsize=(10, 3.8), dpi=96, layout="constrained")
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    _latency_axis(left, entries)
    _throughput_axis(right, entries)
    figure.set_label(job)
    return _svg(figure)


def _validity(entry: dict[str, Any]) -> list[dict[str, str]]:
    validity = entry.get("validity") or {}
    badges = []
    for key in [*VALIDITY_KEYS, *(k for k in validity if k not in VALIDITY_KEYS)]:
        check = validity.get(key)
        if isinstance(check, dict):
            ok = check.get("ok")
            css = "ok" if ok is True else "bad" if ok is False else "na"
            badges.append({"name": key, "detail": str(check.get("detail", "")), "css": css})
    return badges


def _performance(matrix: dict[str, Any]) -> list[dict[str, Any]]:
    jobs = []
    for name, entries in jobs_by_name(matrix).items():
        rows = []
        for sc, entry in entries:
            row = perf_row(sc, entry)
            row.pop("valid", None)
            rows.append({"cells": row, "validity": _validity(entry)})
        headers = list(dict.fromkeys(k for r in rows for k in r["cells"]))
        jobs.append({"name": name, "chart": job_chart(name, entries), "headers": headers,
                     "rows": rows, "options": entries[0][1].get("options") or {},
                     "version": entries[0][1].get("fioVersion", "")})
    return jobs


def render_html(matrix: dict[str, Any]) -> str:
    """The self-contained HTML page for one matrix.json dict."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_TEMPLATES),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    caps = _capabilities(matrix)
    classes = _classes(matrix, caps)
    return env.get_template("matrix.html.j2").render(
        run=matrix.get("run") or {}, grid=_grid(classes, caps), classes=classes,
        verdicts=_VERDICTS, jobs=_performance(matrix), lat_keys=LAT_KEYS,
        scorecard=_scorecard(matrix))


def _scorecard(matrix: dict[str, Any]) -> dict[str, Any] | None:
    """The workload scorecard section's data, when the matrix carries one."""
    from suite.report.scorecard import html_context

    return html_context(matrix) if matrix.get("workloads") else None
