"""Comparing a run with its baseline: verdict transitions per cell, a statistical
decision per (class, fio job, volume mode, metric), and what changed in the fingerprints.

A ``supported`` cell that becomes anything else is a regression (cells the run did not
select are left out: not running a check is not a regression). Runs whose fingerprints
differ are still compared; the comparison says what changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from suite.assessment import NOT_IN_PROFILE, NOT_SELECTED
from suite.config.profile import Regression
from suite.history.record import CLUSTER_KEYS, RunRecord
from suite.history.stats import IOS, METRICS, Decision, decide

NOT_RUN = (NOT_IN_PROFILE, NOT_SELECTED)


@dataclass(frozen=True)
class Transition:
    storage_class: str
    capability: str
    before: str | None  # None: the baseline has no such cell
    after: str
    reason: str

    @property
    def regression(self) -> bool:
        return self.before == "supported" and self.after != "supported"

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass
class Comparison:
    baseline: str  # how to name the baseline in reports: run id or folder
    baseline_id: str
    current_id: str
    transitions: list[Transition] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    fingerprint_changes: list[str] = field(default_factory=list)

    def regressions(self) -> list[tuple[str, str, str]]:
        """(class, name, one-line why) for every regression, cells first."""
        out = [(t.storage_class, t.capability, f"{t.before} -> {t.after}: {t.reason}")
               for t in self.transitions if t.regression]
        out += [(d.storage_class, d.name, d.why) for d in self.decisions
                if d.decision == "regressed"]
        return out

    def by_decision(self, *names: str) -> list[Decision]:
        return [d for d in self.decisions if d.decision in names]

    def as_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline, "baselineId": self.baseline_id,
                "currentId": self.current_id,
                "transitions": [{**t.__dict__, "regression": t.regression}
                                for t in self.transitions if t.changed],
                "metrics": [d.as_dict() for d in self.decisions],
                "fingerprintChanges": list(self.fingerprint_changes)}


def fingerprint_changes(baseline: RunRecord, current: RunRecord) -> list[str]:
    changes = [f"{key} {baseline.cluster.get(key, '?')} -> {current.cluster.get(key, '?')}"
               for key in CLUSTER_KEYS
               if baseline.cluster.get(key) != current.cluster.get(key)]
    for name, now in current.classes.items():
        before = baseline.classes.get(name)
        if before is None:
            continue
        if before.get("provisioner") != now.get("provisioner"):
            changes.append(f"{name}: provisioner {before.get('provisioner')} -> "
                           f"{now.get('provisioner')}")
        if before.get("paramsHash") != now.get("paramsHash"):
            changes.append(f"{name}: CSI driver parameters changed")
    return changes


def _transitions(baseline: RunRecord, current: RunRecord) -> list[Transition]:
    out = []
    for (sc, cap), (verdict, reason) in current.cells.items():
        if verdict == "skipped" and reason in NOT_RUN:
            continue
        before = baseline.cells.get((sc, cap))
        if before is not None and before[0] == "skipped" and before[1] in NOT_RUN:
            continue
        out.append(Transition(sc, cap, before[0] if before else None, verdict, reason))
    return out


def _decisions(baseline: RunRecord, current: RunRecord, settings: Regression) -> list[Decision]:
    out = []
    for key in current.series_keys():
        if key[3] not in METRICS:
            continue
        base, cur = baseline.values(*key), current.values(*key)
        if not base:
            continue  # a new job or class: nothing to compare with
        if not any(base) and not any(cur):
            continue  # e.g. write IOPS of a read-only job
        ios = baseline.values(*key[:3], IOS) + current.values(*key[:3], IOS)
        out.append(decide(key, base, cur, settings, int(min(ios)) if ios else None))
    return out


def compare(baseline: RunRecord, current: RunRecord, settings: Regression,
            label: str | None = None) -> Comparison:
    return Comparison(baseline=label or baseline.id, baseline_id=baseline.id,
                      current_id=current.id, transitions=_transitions(baseline, current),
                      decisions=_decisions(baseline, current, settings),
                      fingerprint_changes=fingerprint_changes(baseline, current))
