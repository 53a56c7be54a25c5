"""Progress: one live line per class on a terminal, timestamped lines otherwise."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace

from suite.report.progress import ClassStatus, Progress, plain_line, status_line, statuses


def test_status_line_shows_cells_step_and_elapsed_in_the_width() -> None:
    line = status_line(ClassStatus("lab-slow", 7, 15, "perf: running 8 fio jobs on a Block "
                                   "disk of a VM with a long name", 192.0), 10, 60)
    assert len(line) == 60
    assert line.startswith("lab-slow      7/15  cells  perf: running")
    assert line.endswith("…  3m12s")
    done = status_line(ClassStatus("a", 15, 15, "x", 3700, finished=True), 1, 40)
    assert "done" in done and done.endswith("1h01m40s")


def test_not_a_terminal_gives_greppable_timestamped_lines() -> None:
    out: list[str] = []
    progress = Progress(out.append, live=False)
    progress.message("lab-nfs", "clone: started")
    progress.draw([ClassStatus("lab-nfs", 1, 2, "x", 1.0)])  # nothing live in a CI log
    assert len(out) == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \[lab-nfs\] clone: started\n", out[0])
    assert plain_line("a", "b", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
        "2026-01-02T03:04:05Z [a] b")


def test_live_block_redraws_in_place_and_clears_back_to_pytests_column() -> None:
    out: list[str] = []
    clock = [0.0]
    progress = Progress(out.append, live=True, width=50, column=lambda: 17,
                        clock=lambda: clock[0])
    progress.message("a", "snapshot: started")
    assert out == []  # a step, not a line
    rows = [ClassStatus("a", 1, 3, "snapshot: started", 5), ClassStatus("bb", 0, 3, "", 5)]
    progress.draw(rows)
    assert out[-1].startswith("\n") and out[-1].count("\n") == 2
    progress.draw(rows)  # within the redraw interval: nothing
    assert len(out) == 1
    clock[0] = 1.0
    progress.draw(rows)
    assert out[1] == "\x1b[2A\x1b[18G\x1b[J"  # erase: up two lines, back to column 18
    progress.clear()
    assert out[-1] == "\x1b[2A\x1b[18G\x1b[J" and progress.drawn == 0
    progress.clear()
    assert len(out) == 4  # nothing drawn: nothing to erase


def test_statuses_count_the_wanted_cells_decided() -> None:
    running = SimpleNamespace(outcomes={"a.x": 1, "a.y": 2, "other": 3}, finished=0.0,
                              current="perf", seconds=12.0)
    rows = statuses({"sc": running}, {"sc": {"a.x", "a.y", "a.z"}}, {"sc": "perf: fio"})
    assert rows == [ClassStatus("sc", 2, 3, "perf: fio", 12.0, False)]
