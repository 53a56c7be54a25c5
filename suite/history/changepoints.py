"""Change points over a metric's history: where the level shifted, run by run.

Night-to-night comparison misses a slow drift; a change-point search over the whole
series finds the runs where the level moved. The search is PELT (Killick, Fearnhead and
Eckley 2012, "Optimal detection of changepoints with a linear computational cost") from
the maintained ``ruptures`` package, with the L2 (mean-shift) cost and a BIC-style
penalty ``3 * sigma^2 * ln(n)`` where sigma is estimated robustly from the median
absolute run-to-run difference, so isolated noisy nights do not become change points.
Shifts smaller than ``min_change`` (relative) are dropped as not worth a person's time.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import ruptures

METHOD = "PELT (ruptures, L2 cost, BIC-style penalty)"


@dataclass(frozen=True)
class ChangePoint:
    index: int  # 0-based index of the first run at the new level
    before: float  # mean level of the segment before
    after: float  # mean level of the segment after

    @property
    def run_number(self) -> int:
        """1-based position in the history, as people count runs."""
        return self.index + 1

    @property
    def change(self) -> float:
        return (self.after - self.before) / abs(self.before) if self.before else math.inf


def noise_sigma(values: Sequence[float]) -> float:
    """Robust noise level: MAD of successive differences, scaled to a normal's sigma."""
    diffs = [abs(b - a) for a, b in itertools.pairwise(values)]
    if not diffs:
        return 0.0
    mad = statistics.median(diffs)
    return 1.4826 * mad / math.sqrt(2)


def detect(values: Sequence[float], min_size: int = 2,
           min_change: float = 0.05) -> list[ChangePoint]:
    """Change points of a series (oldest first); an empty list when none or too short."""
    n = len(values)
    if n < 2 * min_size:
        return []
    signal = np.asarray(values, dtype=float).reshape(-1, 1)
    level = float(np.mean(np.abs(signal))) or 1.0
    sigma = max(noise_sigma(values), 1e-3 * level)  # a noise-free series still needs a floor
    penalty = 3.0 * sigma ** 2 * math.log(n)
    ends = ruptures.Pelt(model="l2", min_size=min_size, jump=1).fit(signal).predict(pen=penalty)
    bounds = [0, *ends]
    out = []
    for i in range(1, len(bounds) - 1):
        before = float(np.mean(signal[bounds[i - 1]:bounds[i]]))
        after = float(np.mean(signal[bounds[i]:bounds[i + 1]]))
        point = ChangePoint(bounds[i], before, after)
        if abs(point.change) >= min_change:
            out.append(point)
    return out
