"""Regressions as test results of their own, so JUnit and CI dashboards name them.

Each regression is reported through pytest's own report hooks as the test case
``suite/test_conformance.py::regression[<class>-<metric>]`` (a capability id or
``<job>.<mode>.<metric>``): ``failed`` under ``--fail-on regression`` (pytest then sets
the exit status itself), ``skipped`` with the reason otherwise, so it is visible but
does not gate.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest
from _pytest.reports import TestReport

MODULE = "suite/test_conformance.py"


def report_regression(config: pytest.Config, storage_class: str, name: str, why: str,
                      gating: bool, details: dict[str, Any]) -> None:
    test = f"regression[{storage_class}-{name}]"
    nodeid = f"{MODULE}::{test}"
    location = (MODULE, 0, test)
    props = [("storageClass", storage_class), ("regression", name), ("why", why),
             ("details", json.dumps(details, sort_keys=True, default=str))]
    hook = config.hook
    hook.pytest_runtest_logstart(nodeid=nodeid, location=location)
    for when in ("setup", "call", "teardown"):
        outcome: Literal["passed", "failed", "skipped"] = "passed"
        longrepr: str | tuple[str, int, str] | None = None
        if when == "call":
            if gating:
                outcome, longrepr = "failed", f"REGRESSION: {why}"
            else:
                outcome = "skipped"
                longrepr = (MODULE, 0, f"regression (not gating: --fail-on is not "
                                       f"'regression'): {why}")
        report = TestReport(nodeid=nodeid, location=location, keywords={test: 1},
                            outcome=outcome, longrepr=longrepr, when=when, sections=[],
                            duration=0.0, start=0.0, stop=0.0, user_properties=props)
        hook.pytest_runtest_logreport(report=report)
    hook.pytest_runtest_logfinish(nodeid=nodeid, location=location)
