"""The HTML report is one offline file, and it really renders in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from suite.report.html import render_html

SUPPORTED_BG = (0xC8, 0xE6, 0xC9)
BROKEN_BG = (0xFF, 0xCD, 0xD2)
CHART_BLUE = (0x1F, 0x77, 0xB4)
CHART_ORANGE = (0xFF, 0x7F, 0x0E)


@pytest.fixture(scope="module")
def html(matrix: dict[str, Any]) -> str:
    return render_html(matrix)


@pytest.mark.slow
def test_page_is_self_contained(html: str) -> None:
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE)
    assert "<script" not in html.lower() and "<link" not in html.lower()
    assert "@import" not in html
    assert not re.search(r"url\(\s*['\"]?(?!#)", html)  # only in-page references (#clip)
    assert "<style>" in html


@pytest.mark.slow
def test_page_has_the_matrix_and_one_chart_per_job(html: str, matrix: dict[str, Any]) -> None:
    assert html.count('<table class="matrix">') == 1
    jobs = [e["job"] for e in matrix["storageClasses"][0]["performance"]["fio"]]
    assert jobs == ["lat-randread", "bw-read"]
    charts = re.findall(r'<div class="chart">\s*<svg', html)
    assert len(charts) == len(jobs)
    for job in jobs:
        assert f'id="job-{job}"' in html


@pytest.mark.slow
def test_cells_carry_verdict_colour_reason_and_evidence(html: str) -> None:
    assert re.search(r'<td class="v broken" title="restored bytes differ &lt;stale&gt; &amp; '
                     r'wrong">broken</td>', html)
    assert '<td class="v supported"' in html and '<td class="v skipped"' in html
    assert html.count("<summary>evidence</summary>") == 10  # 5 cells x 2 classes
    assert "&#34;expected&#34;: &#34;aa&#34;" in html or "&quot;expected&quot;" in html
    assert "declared" in html and "not declared" in html


def _colour_share(image: Image.Image, colour: tuple[int, int, int]) -> float:
    pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    near = np.all(np.abs(pixels - np.array(colour, dtype=np.int16)) <= 6, axis=-1)
    return float(near.mean())


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
@pytest.mark.slow
def test_chromium_renders_table_and_charts(html: str, tmp_path: Path) -> None:
    page, shot = tmp_path / "matrix.html", tmp_path / "shot.png"
    page.write_text(html)
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                    f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars",
                    f"--screenshot={shot}", "--window-size=1300,2400", page.as_uri()],
                   capture_output=True, timeout=60, check=True)
    image = Image.open(shot)
    assert image.size == (1300, 2400)
    colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50  # not a blank page
    assert _colour_share(image, SUPPORTED_BG) > 0.001  # the verdict table painted
    assert _colour_share(image, BROKEN_BG) > 0.0001
    assert _colour_share(image, CHART_BLUE) > 0.002  # the bars of the charts painted
    assert _colour_share(image, CHART_ORANGE) > 0.001


def test_sparse_matrices_render_without_errors() -> None:
    empty = render_html({"run": {"id": "r1"}, "storageClasses": []})
    assert "No fio figures in this run." in empty and '<table class="matrix">' in empty
    partial = render_html({"storageClasses": [
        {"name": "a", "capabilities": {"perf.fio": {"verdict": "inconclusive",
                                                    "reason": "fio: not found"}},
         "performance": {"fio": [{"job": "j1", "readIops": 10}]}},
        {"name": "b", "capabilities": {}, "performance": {"fio": []}}]})
    assert partial.count('<div class="chart">') == 1
    assert 'title="fio: not found">inconclusive</td>' in partial
    assert 'class="v none" title="not assessed"' in partial
