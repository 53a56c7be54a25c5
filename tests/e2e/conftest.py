"""End-to-end wiring: a lab in its own process, and the suite run as a user runs it.

The lab is started with ``python -m suite.lab serve`` and a driver file the test
writes; the suite runs as ``pytest suite --kubeconfig ...`` in a subprocess, exactly
as against a real cluster.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PROFILE = Path(__file__).with_name("profile.yaml")
SUITE_TIMEOUT_S = 900


@dataclass
class LabProcess:
    process: subprocess.Popen[bytes]
    kubeconfig: Path
    drivers: list[dict[str, Any]]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start_lab(folder: Path, drivers: list[dict[str, Any]],
              cluster: dict[str, Any] | None = None) -> LabProcess:
    drivers_file = folder / "drivers.yaml"
    document: dict[str, Any] = {"drivers": drivers}
    if cluster is not None:
        document["cluster"] = cluster
    drivers_file.write_text(yaml.safe_dump(document, sort_keys=False))
    kubeconfig = folder / "kubeconfig"
    log = (folder / "lab.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "suite.lab", "serve", "--drivers", str(drivers_file),
         "--kubeconfig", str(kubeconfig), "--state-dir", str(folder / "state")],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    lab = LabProcess(process, kubeconfig, drivers)
    deadline = time.monotonic() + 60
    while not kubeconfig.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            lab.stop()
            raise RuntimeError(f"lab did not start: {(folder / 'lab.log').read_text()[-2000:]}")
        time.sleep(0.1)
    return lab


@pytest.fixture
def lab_process(tmp_path: Path) -> Iterator[Callable[..., LabProcess]]:
    started: list[LabProcess] = []

    def make(drivers: list[dict[str, Any]], cluster: dict[str, Any] | None = None
             ) -> LabProcess:
        lab = start_lab(tmp_path, drivers, cluster)
        started.append(lab)
        return lab

    yield make
    for lab in started:
        lab.stop()


@dataclass
class SuiteRun:
    returncode: int
    stdout: str
    stderr: str
    report_dir: Path

    def matrix(self) -> dict[str, Any]:
        return json.loads((self.report_dir / "latest" / "matrix.json").read_text())

    def timings(self) -> dict[str, Any]:
        return json.loads((self.report_dir / "latest" / "timings.json").read_text())

    def verdicts(self) -> dict[str, dict[str, str]]:
        return {sc["name"]: {cap: cell["verdict"] for cap, cell in sc["capabilities"].items()}
                for sc in self.matrix()["storageClasses"]}


def suite_command(kubeconfig: Path | str, report_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "suite", "-p", "no:cacheprovider",
            "--kubeconfig", str(kubeconfig), "--profile", str(PROFILE),
            "--report-dir", str(report_dir), *extra]


def run_suite(kubeconfig: Path | str, report_dir: Path, *extra: str,
              timeout_s: float = SUITE_TIMEOUT_S) -> SuiteRun:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(suite_command(kubeconfig, report_dir, *extra), cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout_s)
    return SuiteRun(done.returncode, done.stdout, done.stderr, report_dir)


def labelled_leftovers(kubeconfig: Path) -> list[str]:
    """Everything in the lab still carrying the run label (should be nothing)."""
    from suite.cluster.connect import connect
    from suite.cluster.errors import NotFound
    from suite.cluster.kube import RUN_LABEL, Kube
    from suite.cluster.sweep import SWEEP_KINDS

    kube = Kube(connect(str(kubeconfig)), "probe")
    found = [f"Namespace {n['metadata']['name']}"
             for n in kube.list("v1", "Namespace", label_selector=RUN_LABEL)]
    for api_version, kind in SWEEP_KINDS:
        try:
            items = kube.list(api_version, kind, label_selector=RUN_LABEL)
        except NotFound:
            continue
        found += [f"{kind} {i['metadata'].get('namespace')}/{i['metadata']['name']}"
                  for i in items]
    kube.api_client.close()
    return found
