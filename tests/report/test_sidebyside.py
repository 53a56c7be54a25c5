"""`kvstorage compare`: two runs side by side, differences marked, both runs charted."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from suite.report.sidebyside import sidebyside_command
from suite.report.sidebyside_stats import compare, smallest_p

RUN2_GREEN = (0x2C, 0xA0, 0x2C)  # series 3 and 4 of the charts: the second run's classes
RUN2_PURPLE = (0x94, 0x67, 0xBD)
REPO = Path(__file__).resolve().parents[2]


def _second_run(matrix: dict[str, Any]) -> dict[str, Any]:
    """The same classes measured again: one capability now broken, IOPS halved."""
    other = copy.deepcopy(matrix)
    other["run"]["id"] = "20261126-vendor-b"
    fast = other["storageClasses"][0]
    fast["capabilities"]["provision.block.rwo"] = {
        "verdict": "broken", "reason": "read back other bytes", "evidence": {}, "seconds": 1.0}
    for entry in fast["performance"]["fio"]:
        entry["readIops"] = entry["readIops"] / 2
        for sample in entry.get("perRepeat") or []:
            sample["readIops"] = sample["readIops"] / 2
    return other


@pytest.fixture(scope="module")
def compared(matrix: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("compare")
    for name, doc in (("a", matrix), ("b", _second_run(matrix))):
        (folder / name).mkdir()
        (folder / name / "matrix.json").write_text(json.dumps(doc))
    assert sidebyside_command([str(folder / "a"), str(folder / "b"),
                               "--out", str(folder / "out")]) == 0
    return folder / "out"


@pytest.mark.slow
def test_differences_are_marked_in_matrix_and_scorecard(compared: Path) -> None:
    html = (compared / "compare.html").read_text()
    md = (compared / "compare.md").read_text()
    assert "20261125-test / lab-fast" in html and "20261126-vendor-b / lab-fast" in html
    changed = re.findall(r'<td class="v (\w+) changed" title="([^"]*)"', html)
    assert ("broken", "read back other bytes (first run: supported)") in changed
    assert "**❌ broken** (was supported)" in md
    assert "`provision.block.rwo` ≠" in md and "## Workload scorecards" in md
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html)
    assert "<script" not in html.lower()
    charts = re.findall(r'<div class="chart">\s*<svg', html)
    assert len(charts) == 2  # lat-randread and bw-read, every run's classes in each


def test_significance_needs_enough_repeats() -> None:
    assert smallest_p(3, 3) == pytest.approx(0.1)
    assert smallest_p(4, 4) == pytest.approx(2 / 70)
    base = {"readIops": 1000, "perRepeat": [{"readIops": v} for v in (990, 1000, 1010, 1005)]}
    worse = {"readIops": 500, "perRepeat": [{"readIops": v} for v in (495, 500, 505, 502)]}
    mark = compare(base, worse, "iops", "higher")
    assert mark["status"] == "significantly worse" and mark["p"] < 0.05
    assert mark["change"] == pytest.approx(-0.5)
    same = {"readIops": 1000, "perRepeat": [{"readIops": v} for v in (1000, 995, 1008, 1002)]}
    assert compare(base, same, "iops", "higher")["status"] == "not significant"
    few = {"readIops": 500, "perRepeat": [{"readIops": 500}] * 3}
    short = compare({**base, "perRepeat": base["perRepeat"][:3]}, few, "iops", "higher")
    assert short["status"] == "not enough repeats" and short["smallestP"] == pytest.approx(0.1)


@pytest.mark.slow
def test_user_mistakes_are_one_line(tmp_path: Path) -> None:
    for argv, expected in (([str(tmp_path / "nope"), str(tmp_path), "--out", str(tmp_path)],
                            "does not exist"),
                           ([str(tmp_path), "--out", str(tmp_path)], "at least two runs")):
        done = subprocess.run([sys.executable, "-m", "suite.report.sidebyside", *argv],
                              cwd=REPO, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done.stderr
        assert expected in done.stderr and len(done.stderr.strip().splitlines()) == 1


def _share(image: Image.Image, colour: tuple[int, int, int]) -> float:
    pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    return float(np.all(np.abs(pixels - np.array(colour, dtype=np.int16)) <= 6, axis=-1).mean())


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
@pytest.mark.slow
def test_chromium_draws_both_runs_in_the_charts(compared: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                    f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars",
                    f"--screenshot={shot}", "--window-size=1300,3200",
                    (compared / "compare.html").as_uri()],
                   capture_output=True, timeout=90, check=True)
    image = Image.open(shot)
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 50
    assert _share(image, (0xFF, 0xCD, 0xD2)) > 0.0001  # the broken cell painted
    assert _share(image, RUN2_GREEN) > 0.0005 and _share(image, RUN2_PURPLE) > 0.0005
