"""The history and regression-gate options, declared for pytest and the offline commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

FAIL_ON = ("broken", "regression", "never")


def add_history_options(addoption: Callable[..., Any]) -> None:
    addoption("--history", dest="kvs_history", default=None, metavar="PATH",
              help="run history SQLite file (default: <report-dir>/history.sqlite)")
    addoption("--no-history", dest="kvs_no_history", action="store_true", default=False,
              help="do not append this run to the history")
    addoption("--baseline", dest="kvs_baseline", default=None, metavar="latest|RUN_ID|DIR",
              help="compare with a baseline: the latest stored run, a stored run id, or a "
              "report folder holding matrix.json")
    addoption("--fail-on", dest="kvs_fail_on", default="broken", choices=FAIL_ON,
              help="what fails the run: broken cells (default), also regressions against "
              "the baseline, or never")
