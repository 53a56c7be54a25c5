"""Trend charts: one inline SVG per (class, metric) over the stored runs.

Each job is a series of run medians (blue, orange, ... markers on a grey line); a change
point is a red vertical line at the first run of the new level, labelled with the
change; a fingerprint change (versions, CSI driver parameters) is a dashed grey line
labelled with what changed, at the first run it appears in.
"""

from __future__ import annotations

import io
import re

from markupsafe import Markup
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from suite.history.trends import Trend

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")
CHANGE_COLOUR = "#d62728"
MARK_COLOUR = "#7f7f7f"


def _svg(figure: Figure) -> Markup:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    return Markup(re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL))


def trend_chart(trend: Trend, runs: int) -> Markup:
    figure = Figure(figsize=(9, 3.2))
    ax = figure.add_subplot()
    for colour, line in zip(PALETTE, trend.lines, strict=False):
        xs = [x for x, _ in line.points]
        ys = [p.value for _, p in line.points]
        ax.plot(xs, ys, color="#cccccc", linewidth=1, zorder=1)
        ax.scatter(xs, ys, color=colour, s=22, zorder=3, label=line.label)
        for x, change in line.changes:
            ax.axvline(x, color=CHANGE_COLOUR, linewidth=2, zorder=2)
            ax.annotate(f"change point: run {x} ({change.change:+.0%})", (x, 1.0),
                        xycoords=("data", "axes fraction"), xytext=(4, -12),
                        textcoords="offset points", color=CHANGE_COLOUR, fontsize=8)
    for x, text in trend.marks:
        ax.axvline(x, color=MARK_COLOUR, linestyle="--", linewidth=1, zorder=0)
        ax.annotate(text, (x, 0.0), xycoords=("data", "axes fraction"), xytext=(4, 4),
                    textcoords="offset points", color="#555555", fontsize=7, rotation=90)
    ax.set_xlim(0.5, max(runs, 1) + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("run (oldest first)")
    ax.set_ylabel(trend.metric)
    ax.set_title(f"{trend.storage_class} · {trend.metric}", fontsize=10)
    ax.grid(axis="y", color="#eeeeee")
    ax.legend(fontsize=7, loc="lower left")
    figure.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.16)
    return _svg(figure)
