"""The pytest plugin (entry point ``kubevirt_storage``): options and hooks only.

Inert unless the run targets the suite's own folder (``pytest suite ...``), so the
project's ``pytest tests`` is untouched. State, results and reports live in the
``Session`` it registers; each test reports back to it through the ``kvs_cell`` fixture.

Outcome mapping: supported and unsupported pass (the suite verified what the storage
does), broken fails with the evidence, skipped skips with its reason, and inconclusive
is a test *error* (the fixture fails during setup): the suite could not decide, which a
person must look at, but it is not a verdict against the storage. JUnit tells the two
apart (``<failure>`` vs ``<error>``) and carries verdict, reason, evidence and seconds
as properties.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import suite
from suite.capabilities import Outcome
from suite.config.errors import ConfigError
from suite.config.options import add_options
from suite.history.options import add_history_options

SESSION_KEY = pytest.StashKey[Any]()
SUITE_DIR = Path(suite.__file__).resolve().parent


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kubevirt-storage", "KubeVirt storage conformance suite")
    add_options(group.addoption)
    add_history_options(group.addoption)


def targets_suite(config: pytest.Config) -> bool:
    """True when a command-line path is the suite package or inside it."""
    base = Path(config.invocation_params.dir)
    for arg in config.args:
        if config.option.pyargs and arg.split("::")[0].split(".")[0] == "suite":
            return True
        path = (base / arg.split("::")[0]).resolve()
        if path == SUITE_DIR or SUITE_DIR in path.parents:
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if not config.option.kvs_sweep:
        return None
    from suite.cluster.sweep import run_sweep
    from suite.config.run import build_sweep_config

    try:
        return run_sweep(build_sweep_config(config.option))
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_configure(config: pytest.Config) -> None:
    if not targets_suite(config):
        return
    from suite.config.run import build_run_config
    from suite.session import Session

    try:
        run = build_run_config(config.option)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    session = Session(run, config)
    config.stash[SESSION_KEY] = session
    config.pluginmanager.register(session, "kubevirt-storage-session")
    from suite.history.plugin import HistoryPlugin

    config.pluginmanager.register(HistoryPlugin(session, config), "kubevirt-storage-history")


def _record(item: pytest.Item, storage_class: str, outcome: Outcome, declared: Any) -> None:
    item.user_properties += [
        ("storageClass", storage_class), ("capability", outcome.capability),
        ("verdict", outcome.verdict), ("reason", outcome.reason),
        ("declared", json.dumps(declared)), ("seconds", round(outcome.seconds, 3)),
        ("evidence", json.dumps(outcome.evidence, sort_keys=True, default=str)),
    ]


@pytest.fixture
def kvs_cell(request: pytest.FixtureRequest, kvs_cell_id: tuple[str, str]) -> Outcome:
    """The decided cell for this test's (StorageClass, capability)."""
    from suite.report.declared import declared

    session = request.config.stash.get(SESSION_KEY, None)
    if session is None:
        pytest.skip("the conformance suite is not active in this run")
    storage_class, capability = kvs_cell_id
    outcome = session.outcome_for(storage_class, capability)
    said = declared(capability, session.facts.get(storage_class, {}))
    _record(request.node, storage_class, outcome, said)
    if outcome.verdict == "inconclusive":
        pytest.fail(f"inconclusive: {outcome.reason}", pytrace=False)
    return outcome


def conclude(outcome: Outcome) -> None:
    """Turn a decided cell into the test's result (see the module docstring)."""
    if outcome.verdict == "broken":
        evidence = json.dumps(outcome.evidence, sort_keys=True, default=str)
        pytest.fail(f"BROKEN: {outcome.reason}\nevidence: {evidence}", pytrace=False)
    if outcome.verdict == "skipped":
        pytest.skip(outcome.reason)
