"""scale.bootstorm's pure parts: the figures and how a storm is judged."""

from __future__ import annotations

from suite.checks.base import Cell
from suite.checks.bootstorm import Boot, figures, judge
from suite.guest.pattern import zero_sha256

SHA = "a" * 64
IMAGE = 1 << 20


def _cell() -> Cell:
    cell = Cell("scale.bootstorm")
    cell.evidence.update(cloneStrategies={"copy": 3}, fallbackReasons={},
                         loginSeconds={"p50": 2.0, "p95": 3.0, "max": 3.1},
                         readySeconds={"p50": 2.5, "p95": 3.5, "max": 3.6})
    return cell


def test_figures_interpolate_between_ranks() -> None:
    assert figures([4.0, 1.0, 2.0, 3.0]) == {"p50": 2.5, "p95": 3.85, "max": 4.0}
    assert figures([7.0]) == {"p50": 7.0, "p95": 7.0, "max": 7.0}
    assert figures([]) is None


def test_all_verified_is_supported_with_the_figures() -> None:
    boots = [Boot(f"vm{i}", 1.0, 2.0, 2.5, SHA, {"cloneType": "copy"}) for i in range(3)]
    outcome = judge(_cell(), boots, SHA, IMAGE)
    assert outcome.verdict == "supported"
    assert "3 VMs cloned (strategy copy x3)" in outcome.reason and "p95 3.0s" in outcome.reason


def test_wrong_bytes_and_unfinished_clones_are_broken_other_failures_inconclusive() -> None:
    zero = [Boot("vm0", 1.0, 2.0, 2.5, zero_sha256(IMAGE)), Boot("vm1", 1.0, 2.0, 2.5, SHA)]
    outcome = judge(_cell(), zero, SHA, IMAGE)
    assert outcome.verdict == "broken" and "1 of 2 clones hold zeroes" in outcome.reason
    other = [Boot("vm0", 1.0, 2.0, 2.5, "b" * 64)]
    assert "differ from the golden disk" in judge(_cell(), other, SHA, IMAGE).reason
    hung = [Boot("vm0", failure="claim never bound", kind="hung"), Boot("vm1", sha=SHA)]
    outcome = judge(_cell(), hung, SHA, IMAGE)
    assert outcome.verdict == "broken" and "claim never bound" in outcome.reason
    pull = [Boot("vm0", failure="ErrImagePull", kind="failed"), Boot("vm1", sha=SHA)]
    outcome = judge(_cell(), pull, SHA, IMAGE)
    assert outcome.verdict == "inconclusive" and "non-storage reason" in outcome.reason
