"""Shared fixtures: a running lab reachable over HTTPS, and a guard on its error log.

`lab` is started once per session (default drivers, temporary state folder) because
starting one costs about a second; tests that need their own drivers use `lab_factory`.
Every test that touches a lab also asserts that the lab logged no internal error
(`ctx.errors`: crashed controller loops, 500 replies) while it ran.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import kubernetes
import pytest

from suite.lab.lab import Lab


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    with Lab() as running:
        yield running


@pytest.fixture(scope="session")
def kubeconfig_path(lab: Lab) -> Path:
    return lab.kubeconfig_path


@pytest.fixture(scope="session")
def api_client(kubeconfig_path: Path) -> Iterator[kubernetes.client.ApiClient]:
    client = kubernetes.config.new_client_from_config(config_file=str(kubeconfig_path))
    yield client
    client.close()


def _new_errors(lab: Lab, seen: int) -> list[str]:
    return list(lab.ctx.errors[seen:])


@pytest.fixture
def lab_factory(tmp_path: Path) -> Iterator[Callable[[str], Lab]]:
    """`lab_factory(drivers_yaml_text)` starts a private lab, stopped after the test."""
    started: list[Lab] = []

    def make(drivers_yaml: str) -> Lab:
        drivers_file = tmp_path / f"drivers-{len(started)}.yaml"
        drivers_file.write_text(drivers_yaml)
        lab = Lab(drivers_file=drivers_file)
        lab.start()
        started.append(lab)
        return lab

    yield make
    errors = [e for lab in started for e in _new_errors(lab, 0)]
    for lab in reversed(started):
        lab.stop()
    if errors:
        pytest.fail("the lab logged internal errors:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture(autouse=True)
def _lab_errors_stay_empty(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test during which the session lab logged an internal error."""
    if "lab" not in request.fixturenames:
        yield
        return
    lab: Lab = request.getfixturevalue("lab")
    seen = len(lab.ctx.errors)
    yield
    errors = _new_errors(lab, seen)
    if errors:
        pytest.fail("the lab logged internal errors:\n" + "\n".join(errors), pytrace=False)
