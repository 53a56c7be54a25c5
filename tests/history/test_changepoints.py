"""Change points over 20 stored runs with a level shift at run 12, via the CLI."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from suite.history.changepoints import detect
from suite.history.cli import compare_command, history_command
from suite.history.store import HistoryStore
from tests.history.synth import shifted_history

REPO = Path(__file__).resolve().parents[2]


def test_detect_finds_the_shift_and_nothing_in_flat_noise() -> None:
    for seed in range(10):
        rng = random.Random(seed)
        shifted = [1000 * (1 + rng.gauss(0, 0.03)) for _ in range(11)] + [
            800 * (1 + rng.gauss(0, 0.03)) for _ in range(9)]
        (point,) = detect(shifted)
        assert abs(point.run_number - 12) <= 1 and -0.25 < point.change < -0.15
        flat = [1000 * (1 + rng.gauss(0, 0.03)) for _ in range(20)]
        assert detect(flat) == []
    assert detect([1.0, 2.0, 3.0]) == []  # too short to say


def test_history_command_shows_runs_and_the_change_point(tmp_path: Path, capsys) -> None:
    path = tmp_path / "history.sqlite"
    with HistoryStore(path) as store:
        shifted_history(store)
    assert history_command(["--history", str(path)]) == 0
    out = capsys.readouterr().out
    assert "20 run(s)" in out and "run-20" in out
    found = re.findall(r"lab-a randread \(Block\) readIops: change point at run (\d+) "
                       r"\((run-\d+)\)", out)
    assert len(found) == 1 and abs(int(found[0][0]) - 12) <= 1, out
    assert "lab-a: at run 6: CSI driver parameters changed here" in out
    assert history_command(["--history", str(path), "--metric", "writeIops"]) == 0
    assert "change point at" not in capsys.readouterr().out


@pytest.mark.slow
def test_compare_command_offline_and_user_errors(tmp_path: Path, capsys) -> None:
    path = tmp_path / "history.sqlite"
    with HistoryStore(path) as store:
        shifted_history(store)
    assert compare_command(["run-10", "run-11", "--history", str(path)]) == 0
    assert "## Compared with run-10" in capsys.readouterr().out
    assert compare_command(["run-1", "run-20", "--history", str(path), "--fail-on",
                            "regression", "--json"]) == 1
    assert '"decision": "regressed"' in capsys.readouterr().out
    assert compare_command(["run-1", "nope", "--history", str(path)]) == 2
    assert capsys.readouterr().err.strip() == f"error: run 'nope' is not in history {path}"
    done = subprocess.run([sys.executable, "-m", "suite.history", "history", "--history",
                           str(tmp_path / "none.sqlite")], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == f"error: no history at {tmp_path / 'none.sqlite'} " \
        "(give --history PATH)"
