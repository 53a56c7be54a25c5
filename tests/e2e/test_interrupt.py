"""Ctrl-C in the middle of a check leaves nothing labelled behind; --sweep removes leftovers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from suite.cluster.connect import connect
from suite.cluster.kube import RUN_LABEL, Kube
from tests.e2e.conftest import PROFILE, REPO, labelled_leftovers, suite_command
from tests.e2e.test_truth import RWX_BLOCK, driver


def wait_for_labelled_objects(kubeconfig: Path, process: subprocess.Popen[str]) -> list[str]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        found = [f for f in labelled_leftovers(kubeconfig) if not f.startswith("Namespace")]
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError("the suite created no labelled object to interrupt")


def _as_from_a_terminal() -> None:
    """A run started from a terminal takes Ctrl-C; one started by a background job (a
    CI step launched with `&`) inherits SIGINT ignored, and Python then never raises
    KeyboardInterrupt. The test stands for the terminal user."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_sigint_mid_run_leaves_nothing_labelled(lab_process: Any, tmp_path: Path) -> None:
    lab = lab_process([driver("int-rbd", modes=RWX_BLOCK, expansion="online",
                              snapshots=True, encryption="luks")])
    command = suite_command(lab.kubeconfig, tmp_path / "reports", "--run-id", "kvs-sigint")
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"},
                               preexec_fn=_as_from_a_terminal)
    try:
        assert wait_for_labelled_objects(lab.kubeconfig, process)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 2, output[-3000:]  # pytest's "interrupted"
    assert labelled_leftovers(lab.kubeconfig) == []
    matrix = json.loads((tmp_path / "reports" / "kvs-sigint" / "matrix.json").read_text())
    assert matrix["run"]["interrupted"] is True
    verdicts = {c["verdict"] for c in matrix["storageClasses"][0]["capabilities"].values()}
    assert "inconclusive" in verdicts  # unfinished cells say so, they are not guessed
    from suite.history.store import HistoryStore  # the interrupted run is kept, incomplete

    with HistoryStore(tmp_path / "reports" / "history.sqlite") as store:
        (stored,) = store.runs()
        assert stored.id == "kvs-sigint" and not stored.complete and stored.cells > 0


@pytest.mark.slow
def test_sweep_deletes_leftovers_by_label(kubeconfig_path: Path, tmp_path: Path) -> None:
    kube = Kube(connect(str(kubeconfig_path)), "kvs-old-run")
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kvs-old-run"}})
    kube.scoped("kvs-old-run").create(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "leftover"}})
    kube.transport.request("POST", "/api/v1/namespaces",  # not labelled: must survive
                           body={"apiVersion": "v1", "kind": "Namespace",
                                 "metadata": {"name": "unrelated"}})
    command = [part for part in suite_command(kubeconfig_path, tmp_path) if part != "suite"]
    result = subprocess.run([*command, "--sweep"], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "deleted Namespace kvs-old-run" in result.stdout
    deadline = time.monotonic() + 30
    while kube.list("v1", "Namespace", label_selector=RUN_LABEL) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kube.list("v1", "Namespace", label_selector=RUN_LABEL) == []
    assert kube.get("v1", "Namespace", "unrelated")["metadata"]["name"] == "unrelated"
    kube.delete("v1", "Namespace", "unrelated", wait=False)


@pytest.mark.slow
@pytest.mark.extended
def test_keep_leaves_resources_and_says_how_to_delete_them(lab_process: Any,
                                                           tmp_path: Path) -> None:
    lab = lab_process([driver("keep-fs")])
    profile = tmp_path / "provision-only.yaml"
    profile.write_text(PROFILE.read_text().replace(
        "families: [provision, expand, snapshot, clone, migration, encryption, perf]",
        "families: [provision]"))
    command = suite_command(lab.kubeconfig, tmp_path / "reports", "--keep",
                            "--run-id", "kvs-kept", "--profile", str(profile))
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"kubectl delete namespace -l {RUN_LABEL}=kvs-kept" in result.stdout
    assert "Namespace kvs-kept" in labelled_leftovers(lab.kubeconfig)
    sweep = [p for p in suite_command(lab.kubeconfig, tmp_path) if p != "suite"]
    assert subprocess.run([*sweep, "--sweep"], cwd=REPO, timeout=120).returncode == 0
    deadline = time.monotonic() + 60
    while labelled_leftovers(lab.kubeconfig) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert labelled_leftovers(lab.kubeconfig) == []
