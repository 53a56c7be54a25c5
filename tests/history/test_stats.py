"""The regression rule on synthetic samples (touchstone's three conditions)."""

from __future__ import annotations

import random

from suite.config.profile import Regression
from suite.history.stats import decide, spread

SETTINGS = Regression()  # defaults: p < 0.05, 3 samples a side, spread <= 20 %, IOPS 5 %


def noisy(level: float, noise: float, n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [level * (1 + rng.gauss(0, noise)) for _ in range(n)]


def key(metric: str = "readIops") -> tuple[str, str, str, str]:
    return ("sc", "job", "Block", metric)


def test_ten_percent_drop_with_one_percent_noise_is_regressed() -> None:
    settings = SETTINGS
    for seed in range(20):
        base, cur = noisy(1000, 0.01, 5, seed), noisy(900, 0.01, 5, 100 + seed)
        d = decide(key(), base, cur, settings)
        assert d.decision == "regressed", d
        assert d.p_value is not None and d.p_value < 0.05
        assert d.change is not None and -0.13 < d.change < -0.07
        assert d.threshold == 0.05 and d.u_statistic == 0.0


def test_same_shift_with_thirty_percent_noise_is_too_noisy() -> None:
    for seed in range(20):
        base, cur = noisy(1000, 0.30, 5, seed), noisy(900, 0.30, 5, 100 + seed)
        d = decide(key(), base, cur, SETTINGS)
        # Five draws of 30 % noise can by chance look quiet; what must never happen is
        # a regression called on them.
        assert d.decision != "regressed", d
        if max(spread(base), spread(cur)) > SETTINGS.max_spread:
            assert d.decision == "too-noisy", d


def test_thirty_percent_noise_fixed_draws_is_too_noisy() -> None:
    z = [-1.2, -0.6, 0.0, 0.6, 1.2]
    base = [1000 * (1 + 0.3 * v) for v in z]
    cur = [900 * (1 + 0.3 * v) for v in reversed(z)]
    d = decide(key(), base, cur, SETTINGS)
    assert d.decision == "too-noisy" and d.spread is not None and d.spread > 0.2, d


def test_two_samples_per_side_is_not_enough() -> None:
    d = decide(key(), [1000, 1001], [500, 501], SETTINGS)
    assert d.decision == "not-enough-samples" and d.p_value is None, d


def test_latency_up_is_the_bad_direction_and_improvements_are_named() -> None:
    base, cur = noisy(100, 0.01, 5, 1), noisy(150, 0.01, 5, 2)
    assert decide(key("lat_p99_us"), base, cur, SETTINGS).decision == "regressed"
    assert decide(key("lat_p99_us"), cur, base, SETTINGS).decision == "improved"
    assert decide(key("readIops"), base, cur, SETTINGS).decision == "improved"


def test_significant_but_small_change_is_unchanged() -> None:
    base, cur = noisy(1000, 0.001, 5, 1), noisy(990, 0.001, 5, 2)
    d = decide(key(), base, cur, SETTINGS)
    assert d.decision == "unchanged" and d.p_value is not None and d.p_value < 0.05, d
    assert "within the threshold" in d.why


def test_a_p99_from_few_ios_is_not_enough_samples() -> None:
    base, cur = noisy(100, 0.01, 5, 1), noisy(150, 0.01, 5, 2)
    few = decide(key("lat_p99_us"), base, cur, SETTINGS, ios=440)
    assert few.decision == "not-enough-samples" and "440 I/Os" in few.why, few
    assert decide(key("lat_p99_us"), base, cur, SETTINGS, ios=5000).decision == "regressed"
    assert decide(key("lat_p50_us"), base, cur, SETTINGS, ios=440).decision == "regressed"
