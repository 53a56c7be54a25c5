"""Significance marks for the side-by-side report: Mann-Whitney U over fio repeats.

Two runs' figures for the same (class, job, metric) differ *significantly* only when
a two-sided Mann-Whitney U test over their repeats (matrix.json ``perRepeat``) gives
p below ``ALPHA``. With few repeats no ordering of the samples can reach that p (3 vs
3 repeats: the smallest two-sided p is 0.1), so such pairs are marked
``not enough repeats`` with the smallest p they could have reached, never
``significant`` by accident and never silently ``unchanged``.
"""

from __future__ import annotations

from math import comb
from typing import Any

from scipy.stats import mannwhitneyu

from suite.workloads.judging import fio_value

ALPHA = 0.05
METRICS = (("iops", "IOPS", "higher"), ("bwMiBs", "MiB/s", "higher"),
           ("latencyUs.p99", "p99 µs", "lower"))


def smallest_p(n1: int, n2: int) -> float:
    """The smallest two-sided p an exact Mann-Whitney U test can give for n1 vs n2."""
    return min(1.0, 2.0 / comb(n1 + n2, n1)) if n1 and n2 else 1.0


def samples(entry: dict[str, Any], metric: str) -> list[float]:
    return [v for r in entry.get("perRepeat") or [] if (v := fio_value(metric, r)) is not None]


def compare(base: dict[str, Any], other: dict[str, Any], metric: str, direction: str
            ) -> dict[str, Any]:
    """The mark for `other` against `base` on one metric of one fio job."""
    a, b = samples(base, metric), samples(other, metric)
    mark: dict[str, Any] = {"metric": metric, "baseline": fio_value(metric, base),
                            "value": fio_value(metric, other), "samples": [len(a), len(b)]}
    if mark["baseline"] and mark["value"] is not None:
        mark["change"] = round(mark["value"] / mark["baseline"] - 1.0, 4)
    floor = smallest_p(len(a), len(b))
    if floor >= ALPHA:
        mark.update(status="not enough repeats", smallestP=round(floor, 4))
        return mark
    if len(set(a + b)) == 1:  # identical samples: no difference to test
        mark.update(status="no difference", p=1.0)
        return mark
    p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
    mark["p"] = round(p, 4)
    if p >= ALPHA:
        mark["status"] = "not significant"
    else:
        better = (mark["value"] > mark["baseline"]) == (direction == "higher")
        mark["status"] = "significantly better" if better else "significantly worse"
    return mark


def symbol(mark: dict[str, Any]) -> str:
    """A short sign for a table cell: ▲ better, ▼ worse, ≈ not significant, ? too few."""
    return {"significantly better": "▲", "significantly worse": "▼", "not significant": "≈",
            "no difference": "="}.get(mark.get("status", ""), "?")
