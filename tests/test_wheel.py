"""The package as a user installs it: a wheel in a fresh virtual environment, no checkout.

Built from a copy of what the wheel is made of (pyproject.toml, README.md, suite/), so the
build leaves nothing in the checkout; installed without the ``[lab]`` extra, from PyPI
like a user's ``pip install``; run from a folder that is not the checkout, so nothing but
the installed package can be imported. It proves the built-in profiles ship as package
resources, the plugin and the ``kvstorage`` script load with the plain dependencies, and
``--lab`` without its extra says how to install it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.suite.test_cli import UNREACHABLE

REPO = Path(__file__).resolve().parents[1]
INSTALL_TIMEOUT_S = 900

pytestmark = [pytest.mark.extended, pytest.mark.slow, pytest.mark.timeout(INSTALL_TIMEOUT_S + 300)]


@dataclass
class Installed:
    bin: Path
    cwd: Path
    env: dict[str, str]

    def run(self, *command: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.bin / command[0]), *command[1:]], cwd=self.cwd,
                              env=self.env, capture_output=True, text=True, timeout=timeout_s)


def _check(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "suite", source / "suite",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    _check(subprocess.run([*pip, "wheel", "--no-deps", "-q", "-w", str(root / "dist"),
                           str(source)], env=env, capture_output=True, text=True,
                          timeout=INSTALL_TIMEOUT_S))
    (wheel,) = (root / "dist").glob("kubevirt_storage_suite-*.whl")
    venv = root / "venv"
    _check(subprocess.run([sys.executable, "-m", "venv", str(venv)], env=env,
                          capture_output=True, text=True, timeout=300))
    _check(subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                           "--disable-pip-version-check", str(wheel)], env=env,
                          capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S))
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    yield Installed(venv / "bin", elsewhere, env)


def test_the_installed_package_is_the_one_imported(installed: Installed) -> None:
    done = installed.run("python", "-c", "import suite; print(suite.__file__)")
    _check(done)
    assert done.stdout.strip().startswith(str(installed.bin.parent)), done.stdout


def test_built_in_profiles_ship_in_the_package(installed: Installed) -> None:
    done = installed.run("python", "-c", "from suite.config.profile import load_profile; "
                         "from suite.workloads.loading import load_builtin; "
                         "print(load_profile('full').name, len(load_builtin()))")
    _check(done)
    name, workloads = done.stdout.split()
    assert name == "full" and int(workloads) >= 4, done.stdout


def test_plugin_help_lists_the_suite_options(installed: Installed) -> None:
    done = installed.run("pytest", "--help")
    _check(done)
    assert "KubeVirt storage conformance suite" in done.stdout
    assert "--storage-class" in done.stdout and "--profile" in done.stdout


def test_quick_profile_runs_until_the_cluster_is_unreachable(installed: Installed) -> None:
    kubeconfig = installed.cwd / "unreachable.kubeconfig"
    kubeconfig.write_text(UNREACHABLE)
    for command in (("kvstorage", "run"), ("pytest", "--pyargs", "suite")):
        done = installed.run(*command, "--kubeconfig", str(kubeconfig), "--profile", "quick",
                             "-p", "no:cacheprovider")
        output = done.stdout + done.stderr
        assert done.returncode == 4, output  # pytest's usage error: one line, no traceback
        assert "ERROR: cluster https://127.0.0.1:1 is unreachable" in output, output
        assert "Traceback" not in output and "INTERNALERROR" not in output, output
        assert "not found" not in output, output  # the profile shipped with the package


def test_lab_without_the_extra_says_how_to_install_it(installed: Installed) -> None:
    probe = installed.run("python", "-c", "from suite.lab.extras import missing_lab_extras;"
                          " print(','.join(missing_lab_extras()))")
    _check(probe)
    missing = probe.stdout.strip()
    if not missing:
        pytest.skip("the plain dependencies happen to bring every lab extra along")
    done = installed.run("kvstorage", "run", "--lab", "-p", "no:cacheprovider")
    output = done.stdout + done.stderr
    assert done.returncode == 4, output
    assert f"(missing: {missing.replace(',', ', ')})" in output, output
    assert "pip install 'kubevirt-storage-suite[lab]'" in output, output
    assert "Traceback" not in output, output
    standalone = installed.run("python", "-m", "suite.lab", "serve")
    assert standalone.returncode == 2, standalone.stdout + standalone.stderr
    assert standalone.stderr.strip().splitlines() == [
        f"error: the embedded lab needs the package's [lab] extra (missing: "
        f"{missing.replace(',', ', ')}): pip install 'kubevirt-storage-suite[lab]'"]


def test_kvstorage_sweep_is_installed(installed: Installed) -> None:
    done = installed.run("kvstorage", "sweep", "--help")
    _check(done)
    assert "--run-id" in done.stdout and "--profile" not in done.stdout


def test_kvstorage_compare_has_its_dependencies(installed: Installed) -> None:
    done = installed.run("kvstorage", "compare", "--help")
    _check(done)
    assert "RUN_DIR" in done.stdout
    stats = installed.run("python", "-c", "import suite.report.sidebyside_stats")
    _check(stats)
