"""The history side of a pytest run: compare with the baseline, gate, store the run.

Registered beside the conformance ``Session``. When the test loop has ended every cell
is decided, so the comparison runs there and its regressions are reported as tests of
their own (``gate.py``) before JUnit is written. At the session's end the run is
appended to the history (marked incomplete after an interrupt) and the comparison
section and trend charts are added to the run's reports.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

from suite.config.errors import ConfigError
from suite.history import baseline as baselines
from suite.history.compare import Comparison, compare
from suite.history.gate import report_regression
from suite.history.record import RunRecord, from_matrix
from suite.history.store import HistoryStore
from suite.report.matrix import build_matrix


def history_path(option: Any) -> Path | None:
    if option.kvs_no_history:
        return None
    return Path(option.kvs_history or Path(option.kvs_report_dir) / "history.sqlite")


class HistoryPlugin:
    def __init__(self, session: Any, config: pytest.Config):
        option = config.option
        self.session = session
        self.config = config
        self.history = history_path(option)
        self.baseline_spec: str | None = option.kvs_baseline
        self.fail_on: str = option.kvs_fail_on
        self.comparison: Comparison | None = None
        self.note: str | None = None
        self.problems: list[str] = []
        try:
            baselines.check_spec(self.baseline_spec, self.history)
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None

    # -- after every cell is decided: compare and report regressions --------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        result = yield
        if self.baseline_spec and self.session.assessments and not session.shouldstop:
            self._compare()
        return result

    def _current(self, matrix: dict[str, Any], complete: bool) -> RunRecord:
        rows = [row for a in self.session.assessments.values() for row in a.ctx.fio_rows]
        return from_matrix(matrix, rows, complete=complete)

    def _compare(self) -> None:
        assert self.baseline_spec is not None
        s = self.session
        current = self._current(build_matrix(s._run_info(False), s._results()), True)
        try:
            found = baselines.resolve(self.baseline_spec, self.history, current.id)
        except ConfigError as exc:
            self.note = f"baseline: {exc}"
            return
        if found is None:
            self.note = (f"baseline {self.baseline_spec}: no earlier complete run in "
                         f"{self.history}; nothing to compare with yet")
            return
        record, label = found
        self.comparison = compare(record, current, s.run.profile.regression, label)
        gating = self.fail_on == "regression"
        for transition in self.comparison.transitions:
            if transition.regression:
                report_regression(self.config, transition.storage_class,
                                  transition.capability,
                                  f"{transition.before} -> {transition.after}: "
                                  f"{transition.reason}", gating, transition.__dict__)
        for decision in self.comparison.by_decision("regressed"):
            report_regression(self.config, decision.storage_class, decision.name,
                              decision.why, gating, decision.as_dict())

    # -- the end: store the run, add the comparison to the reports, exit status --------
    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        matrix = self.session.matrix
        if matrix is not None and self.history is not None:
            interrupted = exitstatus in (pytest.ExitCode.INTERRUPTED,
                                         pytest.ExitCode.INTERNAL_ERROR)
            try:
                with HistoryStore(self.history) as store:
                    store.append(self._current(matrix, not interrupted))
            except (ConfigError, OSError) as exc:
                self.problems.append(f"history not written: {exc}")
        if matrix is not None and self.session.run_dir is not None:
            self._extend_reports(self.session.run_dir)
        if (self.fail_on == "never" and session.exitstatus == pytest.ExitCode.TESTS_FAILED
                and not self.session.cleanup_errors):
            session.exitstatus = pytest.ExitCode.OK

    def _extend_reports(self, run_dir: Path) -> None:
        from suite.history.report import extend_reports

        try:
            extend_reports(run_dir, self.comparison, self.history, self.note)
        except Exception as exc:  # a renderer bug must not cost the stored run
            self.problems.append(f"comparison report: {type(exc).__name__}: {exc}")
        if self.comparison is not None:
            with contextlib.suppress(OSError):
                (run_dir / "comparison.json").write_text(
                    json.dumps(self.comparison.as_dict(), indent=2, default=str) + "\n")

    @pytest.hookimpl(trylast=True)  # after the capability matrix
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        write = terminalreporter.write_line
        if self.note:
            write(self.note, yellow=True)
        comp = self.comparison
        if comp is not None:
            terminalreporter.section(f"Compared with {comp.baseline}")
            counts: dict[str, int] = {}
            for d in comp.decisions:
                counts[d.decision] = counts.get(d.decision, 0) + 1
            regressions = comp.regressions()
            write(f"regressions: {len(regressions)}; metrics: " + ", ".join(
                f"{k} {v}" for k, v in sorted(counts.items())))
            for sc, name, why in regressions:
                write(f"  REGRESSION {sc} {name}: {why}", red=True)
            for change in comp.fingerprint_changes:
                write(f"  fingerprint: {change}")
        if self.history is not None:
            write(f"history: {self.history}")
        for problem in self.problems:
            write(f"history problem: {problem}", yellow=True)
