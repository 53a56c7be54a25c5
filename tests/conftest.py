"""Shared fixtures: a running lab reachable over HTTPS, and a guard on its error log.

`lab` is started once per session (default drivers, temporary state folder) because
starting one costs about a second; tests that need their own drivers use `lab_factory`.
Every test that touches a lab also asserts that the lab logged no internal error
(`ctx.errors`: crashed controller loops, 500 replies) while it ran.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import kubernetes
import pytest

from suite.lab.lab import Lab


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--extended", action="store_true",
                     default=bool(os.environ.get("KVS_EXTENDED")),
                     help="also run the long whole-suite runs marked `extended` (RBAC variants, "
                          "API faults, regressions, assessment, QEMU guests, the wheel)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The default run stays near 20 minutes on 2 cores: tests marked `extended` are
    deselected (reported as such, never counted as passed) unless --extended is given."""
    if config.getoption("--extended"):
        return
    extended = [item for item in items if item.get_closest_marker("extended")]
    if extended:
        config.hook.pytest_deselected(items=extended)
        items[:] = [item for item in items if not item.get_closest_marker("extended")]


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


class Kubectl:
    """kubectl against a kubeconfig (the session lab's unless given); its discovery cache
    stays beside the kubeconfig instead of piling up in ~/.kube/cache."""

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig

    def command(self, *args: str, kubeconfig: Path | None = None) -> list[str]:
        config = Path(kubeconfig or self.kubeconfig)
        return ["kubectl", "--kubeconfig", str(config), "--cache-dir",
                str(config.parent / "kubectl-cache"), *args]

    def __call__(self, *args: str, stdin: str | None = None, check: bool = True,
                 kubeconfig: Path | None = None,
                 timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run kubectl; with check, a non-zero exit fails with kubectl's stderr."""
        result = subprocess.run(self.command(*args, kubeconfig=kubeconfig), input=stdin,
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result


@pytest.fixture(scope="session")
def kubectl(kubeconfig_path: Path) -> Kubectl:
    return Kubectl(kubeconfig_path)


@pytest.fixture(scope="session")
def unique_name() -> Callable[[str], str]:
    """`unique_name("prefix")` -> "prefix-1a2b3c", for objects in the shared lab."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:6]}"


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
