"""The per-class runner: family order, the no-volume layer, errors become inconclusive."""

from __future__ import annotations

from typing import Any

import pytest

from suite.assessment import ClassAssessment, judge_without_volume, run_family
from suite.checks.base import FAMILY_CAPABILITIES, ClassContext, Outcome
from suite.cluster.errors import Cancelled
from suite.config.profile import parse_profile
from tests.suite.sample import NFS_FACTS, RBD_FACTS


def make_ctx(facts: dict[str, Any]) -> ClassContext:
    profile = parse_profile({"name": "t"}, "t.yaml")
    return ClassContext(kube=None, namespace="ns", storage_class="sc",  # type: ignore[arg-type]
                        facts=facts, profile=profile, run_id="r")


def fixed(verdict: str, family: str) -> Any:
    calls: list[str] = []

    def assess(ctx: ClassContext) -> list[Outcome]:
        calls.append(family)
        return [Outcome(c, verdict, f"{verdict} by test") for c in FAMILY_CAPABILITIES[family]]

    assess.calls = calls  # type: ignore[attr-defined]
    return assess


def run(ctx: ClassContext, families: dict[str, Any], wanted: set[str] | None = None
        ) -> ClassAssessment:
    everything = {c for caps in FAMILY_CAPABILITIES.values() for c in caps}
    assessment = ClassAssessment(ctx, families, everything if wanted is None else wanted)
    assessment.start()
    assessment.thread.join(10)
    assert not assessment.thread.is_alive()
    return assessment


def test_every_cell_is_published_and_events_set() -> None:
    families = {name: fixed("supported", name) for name in FAMILY_CAPABILITIES}
    done = run(make_ctx(RBD_FACTS), families)
    assert all(o.verdict == "supported" for o in done.outcomes.values())
    assert all(event.is_set() for event in done.events.values())
    assert done.ctx.outcomes == done.outcomes  # later families can read earlier cells


def test_no_volume_at_all_skips_the_rest_in_the_discovery_layer() -> None:
    families = {"provision": fixed("broken", "provision"),
                "snapshot": fixed("supported", "snapshot"), "clone": fixed("supported", "clone")}
    done = run(make_ctx(NFS_FACTS), families)
    assert families["snapshot"].calls == [] and families["clone"].calls == []
    # NFS_FACTS declares no snapshot class: unsupported, found by discovery.
    assert done.outcomes["snapshot.volume"].verdict == "unsupported"
    skipped = done.outcomes["clone.volume"]
    assert skipped.verdict == "skipped"
    assert "no volume of class sc could be provisioned" in skipped.reason


def test_one_working_mode_is_enough_to_run_the_rest() -> None:
    def provision(ctx: ClassContext) -> list[Outcome]:
        caps = FAMILY_CAPABILITIES["provision"]
        return [Outcome(caps[0], "supported", "ok")] + [
            Outcome(c, "unsupported", "refused") for c in caps[1:]]

    clone = fixed("supported", "clone")
    done = run(make_ctx(RBD_FACTS), {"provision": provision, "clone": clone})
    assert clone.calls == ["clone"]
    assert done.outcomes["clone.volume"].verdict == "supported"


def test_family_errors_become_inconclusive_with_the_error() -> None:
    def explodes(ctx: ClassContext) -> list[Outcome]:
        raise RuntimeError("console closed")

    outcomes = run_family("snapshot", explodes, make_ctx(RBD_FACTS))
    assert [o.verdict for o in outcomes] == ["inconclusive", "inconclusive"]
    assert "RuntimeError: console closed" in outcomes[0].reason


def test_a_forgotten_cell_is_inconclusive_not_missing() -> None:
    def partial(ctx: ClassContext) -> list[Outcome]:
        return [Outcome("expand.offline", "supported", "grew")]

    outcomes = {o.capability: o for o in run_family("expand", partial, make_ctx(RBD_FACTS))}
    assert outcomes["expand.online"].verdict == "inconclusive"
    assert outcomes["expand.offline"].verdict == "supported"


def test_cancellation_marks_unfinished_cells_interrupted() -> None:
    ctx = make_ctx(RBD_FACTS)

    def cancelled(c: ClassContext) -> list[Outcome]:
        c.cancelled.set()
        raise Cancelled("stop")

    done = run(ctx, {"provision": cancelled, "clone": fixed("supported", "clone")})
    assert done.outcomes["provision.block.rwo"].verdict == "inconclusive"
    assert "interrupted" in done.outcomes["clone.volume"].reason


def test_unwanted_families_do_not_run() -> None:
    clone = fixed("supported", "clone")
    done = run(make_ctx(RBD_FACTS), {"clone": clone}, wanted={"snapshot.vm"})
    assert clone.calls == []
    assert done.outcomes["clone.volume"].verdict == "skipped"


@pytest.mark.parametrize(("cap", "verdict"), [
    ("expand.offline", "unsupported"), ("clone.volume", "skipped"), ("perf.fio", "skipped")])
def test_judge_without_volume(cap: str, verdict: str) -> None:
    assert judge_without_volume(cap, NFS_FACTS, "why").verdict == verdict
