"""Comparing two records: verdict transitions, metric decisions, fingerprint changes."""

from __future__ import annotations

from suite.config.profile import Regression
from suite.history.compare import compare
from tests.history.synth import record


def test_supported_to_anything_else_is_a_regression_and_unrun_cells_are_not() -> None:
    base = record("run-1", {}, cells={("a", "snapshot.volume"): "supported",
                                      ("a", "clone.volume"): "broken",
                                      ("a", "expand.online"): "supported"})
    cur = record("run-2", {}, cells={("a", "snapshot.volume"): "broken",
                                     ("a", "clone.volume"): "supported",
                                     ("a", "expand.online"): "skipped"})
    cur.cells[("a", "expand.online")] = ("skipped", "not selected on the command line")
    comp = compare(base, cur, Regression())
    assert [(sc, name) for sc, name, _ in comp.regressions()] == [("a", "snapshot.volume")]
    changed = {t.capability: (t.before, t.after) for t in comp.transitions if t.changed}
    assert changed == {"snapshot.volume": ("supported", "broken"),
                       "clone.volume": ("broken", "supported")}


def test_metrics_are_decided_and_fingerprint_changes_named() -> None:
    base = record("run-1", {("a", "j", "readIops"): [1000, 1001, 999, 1000, 1002],
                            ("a", "j", "writeIops"): [0, 0, 0, 0, 0]})
    cur = record("run-2", {("a", "j", "readIops"): [500, 501, 499, 500, 502],
                           ("a", "j", "writeIops"): [0, 0, 0, 0, 0]},
                 kubevirt="1.5.0", params="p2")
    comp = compare(base, cur, Regression())
    assert [(d.name, d.decision) for d in comp.decisions] == [("j.Block.readIops", "regressed")]
    assert comp.fingerprint_changes == ["kubevirtVersion 1.4.0 -> 1.5.0",
                                        "a: CSI driver parameters changed"]
    assert comp.regressions()[0][:2] == ("a", "j.Block.readIops")
