"""Assessing one StorageClass: its families in order, on a thread of its own.

Classes are independent, so the session starts one ``ClassAssessment`` per class and
they run concurrently; tests wait on per-cell events. Within a class, ``provision``
runs first: when no volume of the class can be had at all, the other families are not
run (each would only time out again) and their cells are judged in the cheapest layer,
discovery: what the class does not declare is ``unsupported``, the rest ``skipped``.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable

from suite.checks.base import CAPABILITIES, FAMILY_CAPABILITIES, ClassContext, Family, Outcome
from suite.cluster.declared import declared
from suite.cluster.errors import Cancelled

NOT_IN_PROFILE = "not selected by the profile"
NOT_SELECTED = "not selected on the command line"
INTERRUPTED = "the run was interrupted before this check finished"


class ClassAssessment:
    """Runs the selected families for one class and publishes each cell as it is decided."""

    def __init__(self, ctx: ClassContext, families: dict[str, Family],
                 wanted: set[str], on_finish: Callable[[ClassAssessment], None] | None = None):
        self.ctx = ctx
        self.families = families  # name -> assess, in run order
        self.wanted = wanted  # capability ids the run needs (profile and -k selection)
        self.on_finish = on_finish
        self.outcomes: dict[str, Outcome] = {}
        self.events = {cap: threading.Event() for cap in CAPABILITIES}
        self.current = ""  # family running now, for heartbeat lines
        self.started = 0.0
        self.finished = 0.0
        self.thread = threading.Thread(target=self._run, daemon=True,
                                       name=f"assess-{ctx.storage_class}")

    def start(self) -> None:
        self.started = time.monotonic()
        self.thread.start()

    def _publish(self, outcome: Outcome) -> None:
        self.outcomes[outcome.capability] = outcome
        self.ctx.outcomes[outcome.capability] = outcome
        if outcome.capability in self.events:
            self.events[outcome.capability].set()

    def _run(self) -> None:
        try:
            for name, family in self.families.items():
                if self.ctx.cancelled.is_set():
                    break
                self._run_family(name, family)
        finally:
            self._finish()

    def _run_family(self, name: str, family: Family) -> None:
        caps = FAMILY_CAPABILITIES[name]
        if not any(cap in self.wanted for cap in caps):
            return
        blocked = self.volume_unavailable() if name != "provision" else None
        if blocked:
            for cap in caps:
                self._publish(judge_without_volume(cap, self.ctx.facts, blocked))
            return
        self.current = name
        self.ctx.progress(f"{name}: started")
        for outcome in run_family(name, family, self.ctx):
            self._publish(outcome)
        self.current = ""

    def volume_unavailable(self) -> str | None:
        """Why no volume of this class can be had, or None (also None when unknown)."""
        cells = [self.outcomes.get(c) for c in FAMILY_CAPABILITIES["provision"]]
        decided = [c for c in cells if c is not None]
        if not decided or any(c.verdict not in ("unsupported", "broken") for c in decided):
            return None
        reasons = "; ".join(f"{c.capability}: {c.reason}" for c in decided)
        return f"no volume of class {self.ctx.storage_class} could be provisioned ({reasons})"

    def _finish(self) -> None:
        self.finished = time.monotonic()
        self.current = ""
        for cap, event in self.events.items():
            if cap not in self.outcomes:
                if self.ctx.cancelled.is_set():
                    self._publish(Outcome(cap, "inconclusive", INTERRUPTED))
                else:
                    self._publish(Outcome(cap, "skipped", NOT_SELECTED))
            event.set()
        if self.on_finish is not None:
            self.on_finish(self)

    @property
    def seconds(self) -> float:
        end = self.finished or time.monotonic()
        return end - self.started if self.started else 0.0


def judge_without_volume(capability: str, facts: dict[str, object], why: str) -> Outcome:
    """The discovery-layer verdict for a cell whose check needs a volume that cannot be had."""
    said = declared(capability, facts)
    if said is False:
        return Outcome(capability, "unsupported",
                       "the StorageClass does not declare it (found by discovery)",
                       {"declared": False, "volumeUnavailable": why})
    return Outcome(capability, "skipped", why, {"declared": said})


def run_family(name: str, family: Family, ctx: ClassContext) -> list[Outcome]:
    """One family's outcomes, exactly one per capability id it owns, never an exception."""
    start = time.monotonic()
    caps = FAMILY_CAPABILITIES[name]
    try:
        returned = list(family(ctx))
    except Cancelled:
        return [Outcome(cap, "inconclusive", INTERRUPTED) for cap in caps]
    except Exception as exc:  # a suite or environment error, not a storage verdict
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return [Outcome(cap, "inconclusive", f"check error: {detail}",
                        {"traceback": traceback.format_exc(limit=8)},
                        time.monotonic() - start) for cap in caps]
    return complete(name, returned, time.monotonic() - start)


def complete(name: str, returned: list[Outcome], seconds: float) -> list[Outcome]:
    """Keep the family's cells, and name any cell it forgot (a suite bug) as inconclusive."""
    caps = FAMILY_CAPABILITIES[name]
    by_cap = {o.capability: o for o in returned}
    missing = [Outcome(cap, "inconclusive", f"family {name} returned no outcome for it",
                       seconds=seconds) for cap in caps if cap not in by_cap]
    return [*returned, *missing]
