"""The trend chart marks the change point at run 12, as Chromium really draws it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from suite.history.report import render_html
from suite.history.store import HistoryStore
from suite.history.trend_chart import trend_chart
from suite.history.trends import trends
from tests.history.synth import shifted_history

BLUE = (0x1F, 0x77, 0xB4)
RED = (0xD6, 0x27, 0x28)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("trend")
    with HistoryStore(folder / "h.sqlite") as store:
        shifted_history(store)
        (trend,) = trends(store, metric="readIops")
    svg = trend_chart(trend, 20)
    body = render_html(None, [("lab-a-readIops", svg)])
    return f"<!DOCTYPE html><html><body style='margin:0'>{body}</body></html>"


def test_chart_names_the_change_point_and_the_parameter_change(page: str) -> None:
    assert "change point: run 12 (-20%)" in page or "change point: run 11" in page \
        or "change point: run 13" in page
    assert "CSI driver parameters changed here" in page
    assert "<script" not in page.lower()


def _columns(image: Image.Image, colour: tuple[int, int, int]) -> np.ndarray:
    pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    near = np.all(np.abs(pixels - np.array(colour, dtype=np.int16)) <= 10, axis=-1)
    return near.sum(axis=0)


def _groups(columns: np.ndarray, minimum: int) -> list[float]:
    """Centres of runs of adjacent columns having at least ``minimum`` such pixels."""
    centres, start = [], None
    for x, count in enumerate([*columns.tolist(), 0]):
        if count >= minimum and start is None:
            start = x
        elif count < minimum and start is not None:
            centres.append((start + x - 1) / 2)
            start = None
    return centres


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_chromium_draws_the_change_line_at_run_twelve(page: str, tmp_path: Path) -> None:
    html, shot = tmp_path / "trend.html", tmp_path / "shot.png"
    html.write_text(page)
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                    f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars",
                    f"--screenshot={shot}", "--window-size=1000,500", html.as_uri()],
                   capture_output=True, timeout=60, check=True)
    image = Image.open(shot)
    markers = _groups(_columns(image, BLUE), 2)
    assert len(markers) >= 20, markers  # one marker column per run (legend may add one)
    markers = markers[-20:] if len(markers) > 20 else markers
    red = _columns(image, RED)
    line_x = float(np.argmax(red))
    assert red.max() > 100  # a tall red vertical line: the change point
    nearest = int(np.argmin([abs(m - line_x) for m in markers])) + 1
    assert abs(nearest - 12) <= 1, (line_x, markers)
