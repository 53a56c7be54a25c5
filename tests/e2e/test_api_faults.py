"""A whole run through an API server that throttles, fails and cuts watches
(docs/lab-drivers.md, "The `cluster` section": any `api` faults change no cell, leave nothing
behind, and the run ends)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import labelled_leftovers, run_suite
from tests.e2e.test_truth import VARIETY, mismatches

API = {"throttle429": 0.05, "errors5xx": 0.02, "watchCutAfterS": 20, "latencyMs": 20}


@pytest.mark.extended
@pytest.mark.slow
def test_api_faults_change_no_cell_and_leave_nothing(lab_process: Any,
                                                     tmp_path: Path) -> None:
    drivers = VARIETY[:2]
    lab = lab_process(drivers, {"api": API})
    result = run_suite(lab.kubeconfig, tmp_path / "reports")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    problems = mismatches(result.verdicts(), drivers)
    assert not problems, problems
    assert labelled_leftovers(lab.kubeconfig) == []
    injected = json.loads(subprocess.run(
        ["kubectl", "--kubeconfig", str(lab.kubeconfig), "get", "--raw", "/lab/faults"],
        capture_output=True, text=True, check=True).stdout)
    # The run really went through faults: 5% and 2% of several hundred calls.
    assert injected["byCode"].get("429", 0) >= 5, injected
    assert injected["byCode"].get("500", 0) + injected["byCode"].get("503", 0) >= 1, injected
