"""Deciding whether one fio metric moved between a baseline and a run, under noise.

The rule is touchstone's (cloud-bulldozer): a metric is ``regressed`` only when a
Mann-Whitney U test over the repeats is significant, the change of the median is beyond
the metric's threshold in its bad direction, and the spread of neither side exceeds a
maximum. Too few repeats give ``not-enough-samples`` and a spread above the maximum
gives ``too-noisy``, instead of a guess. Every decision keeps the figures that decided it.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from scipy.stats import mannwhitneyu

from suite.config.profile import Regression

DECISIONS = ("regressed", "improved", "unchanged", "too-noisy", "not-enough-samples")

# metric -> (kind, higher_is_better); kinds name the profile's threshold fields.
METRICS: dict[str, tuple[str, bool]] = {
    "readIops": ("iops", True), "writeIops": ("iops", True),
    "readBwMiBs": ("bandwidth", True), "writeBwMiBs": ("bandwidth", True),
    "lat_p50_us": ("latency", False), "lat_p99_us": ("tail_latency", False),
}


@dataclass(frozen=True)
class Decision:
    """One (class, job, volume mode, metric) compared: the answer and what decided it."""

    storage_class: str
    job: str
    mode: str
    metric: str
    decision: str
    why: str
    baseline_median: float | None
    current_median: float | None
    change: float | None  # relative change of the median, signed (+0.1 = 10 % higher)
    threshold: float
    u_statistic: float | None
    p_value: float | None
    spread: float | None  # the larger coefficient of variation of the two sides
    n_baseline: int
    n_current: int

    @property
    def name(self) -> str:
        """The id used in JUnit and reports: ``<job>.<mode>.<metric>``."""
        return f"{self.job}.{self.mode}.{self.metric}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "name": self.name}


def spread(values: Sequence[float]) -> float:
    """Coefficient of variation (sample standard deviation over the mean)."""
    mean = statistics.fmean(values)
    if len(values) < 2 or mean == 0:
        return 0.0
    return statistics.stdev(values) / abs(mean)


def threshold_for(metric: str, settings: Regression) -> float:
    kind, _ = METRICS[metric]
    return float(getattr(settings, kind))


TAIL_METRICS = ("lat_p99_us",)
IOS = "ios"  # stored beside the metrics: the I/Os each repeat's percentiles rest on


def decide(key: tuple[str, str, str, str], baseline: Sequence[float],
           current: Sequence[float], settings: Regression,
           ios: int | None = None) -> Decision:
    """Compare the repeats of one metric; ``key`` is (class, job, mode, metric);
    ``ios``: the fewest I/Os any repeat of either side made (tail figures need many)."""
    metric = key[3]
    _, higher_is_better = METRICS[metric]
    threshold = threshold_for(metric, settings)
    base, cur = [float(v) for v in baseline], [float(v) for v in current]
    medians = (statistics.median(base) if base else None,
               statistics.median(cur) if cur else None)
    change = None
    if medians[0] and medians[1] is not None:
        change = (medians[1] - medians[0]) / abs(medians[0])

    def done(decision: str, why: str, u: float | None = None, p: float | None = None,
             sp: float | None = None) -> Decision:
        return Decision(*key, decision=decision, why=why, baseline_median=medians[0],
                        current_median=medians[1], change=change, threshold=threshold,
                        u_statistic=u, p_value=p, spread=sp, n_baseline=len(base),
                        n_current=len(cur))

    need = settings.min_samples
    if len(base) < need or len(cur) < need:
        return done("not-enough-samples",
                    f"{len(base)} baseline and {len(cur)} current repeats; {need} a side needed")
    if metric in TAIL_METRICS and ios is not None and ios < settings.min_tail_ios:
        return done("not-enough-samples", f"a repeat made only {ios} I/Os; a p99 needs "
                    f"{settings.min_tail_ios} (longer fio runtime)")
    worst = max(spread(base), spread(cur))
    if worst > settings.max_spread:
        return done("too-noisy", f"spread {worst:.1%} exceeds the maximum "
                    f"{settings.max_spread:.1%}", sp=worst)
    if base == cur or len(set(base + cur)) == 1:
        return done("unchanged", "identical samples", sp=worst)
    u, p = mannwhitneyu(cur, base, alternative="two-sided")
    u, p = float(u), float(p)
    if p >= settings.significance:
        return done("unchanged", f"U test not significant (p={p:.3g} >= "
                    f"{settings.significance:g})", u, p, worst)
    assert change is not None
    worse = change < 0 if higher_is_better else change > 0
    if abs(change) <= threshold:
        return done("unchanged", f"significant (p={p:.3g}) but the change {change:+.1%} "
                    f"is within the threshold {threshold:.0%}", u, p, worst)
    if worse:
        return done("regressed", f"significant (p={p:.3g}) and {change:+.1%} beyond the "
                    f"threshold {threshold:.0%} in the bad direction", u, p, worst)
    return done("improved", f"significant (p={p:.3g}) and {change:+.1%} beyond the "
                f"threshold {threshold:.0%} in the good direction", u, p, worst)
