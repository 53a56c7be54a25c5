"""Progress a person can follow on long runs, and that a CI log can still grep.

An assessment takes tens of minutes on a real cluster with several classes working at
once; their progress lines interleave into noise. On a terminal the run shows one live
line per class instead (cells done of total, the current step, elapsed time), redrawn
in place with plain ANSI cursor moves below pytest's own output, and erased before
pytest writes a result, so the two never tangle. When the output is not a terminal
(CI), every progress message is one plain line with a UTC timestamp and the class.

The live block is drawn relative to the cursor (up N lines, then the column pytest
was at), never with saved absolute positions, so it survives the screen scrolling.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

REDRAW_S = 0.5
UP = "\x1b[{n}A"
COLUMN = "\x1b[{n}G"
CLEAR_DOWN = "\x1b[J"


@dataclass
class ClassStatus:
    name: str
    done: int
    total: int
    step: str
    elapsed_s: float
    finished: bool = False


def elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def status_line(status: ClassStatus, name_width: int, width: int) -> str:
    """`lab-slow     7/15 cells  perf: running 8 fio jobs ...   3m12s` fitted to `width`."""
    step = "done" if status.finished else (status.step or "waiting")
    head = f"{status.name.ljust(name_width)}  {status.done:>3}/{status.total:<3} cells  "
    tail = f"  {elapsed(status.elapsed_s)}"
    room = max(8, width - len(head) - len(tail))
    if len(step) > room:
        step = step[: room - 1] + "…"
    return head + step.ljust(room) + tail


def plain_line(name: str, message: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{stamp} [{name}] {message}"


class Progress:
    """Live block on a terminal (``live=True``), timestamped lines otherwise.

    ``write`` prints raw text (no newline added); ``column`` tells where pytest left
    the cursor on its current line; ``width`` is the terminal's width.
    """

    def __init__(self, write: Callable[[str], None], live: bool, width: int = 100,
                 column: Callable[[], int] = lambda: 0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.write, self.live, self.width = write, live, width
        self.column, self.clock = column, clock
        self.steps: dict[str, str] = {}
        self.drawn = 0  # lines of the live block on screen now
        self.at_column = 0
        self.last_draw = -REDRAW_S

    def message(self, name: str, text: str) -> None:
        """A class's progress message: its current step (live) or a log line (plain)."""
        self.steps[name] = text
        if not self.live:
            self.write(plain_line(name, text) + "\n")

    def draw(self, statuses: Iterable[ClassStatus], force: bool = False) -> None:
        if not self.live:
            return
        now = self.clock()
        if not force and self.drawn and now - self.last_draw < REDRAW_S:
            return
        rows = list(statuses)
        if not rows:
            return
        self.clear()
        self.at_column = self.column()
        name_width = max(len(s.name) for s in rows)
        lines = [status_line(s, name_width, self.width - 1) for s in rows]
        self.write("\n" + "\n".join(lines))
        self.drawn = len(lines)
        self.last_draw = now

    def clear(self) -> None:
        """Erase the live block and put the cursor back where pytest left it."""
        if not self.drawn:
            return
        self.write(UP.format(n=self.drawn) + COLUMN.format(n=self.at_column + 1) + CLEAR_DOWN)
        self.drawn = 0


def statuses(assessments: dict[str, Any], wanted: dict[str, set[str]],
             steps: dict[str, str]) -> list[ClassStatus]:
    """One status per class from the session's ClassAssessments."""
    rows = []
    for name, assessment in assessments.items():
        caps = wanted.get(name) or set()
        done = sum(1 for cap in caps if cap in assessment.outcomes)
        finished = bool(assessment.finished)
        step = steps.get(name, "") if assessment.current else (
            "" if finished else steps.get(name, ""))
        rows.append(ClassStatus(name, done, len(caps), step, assessment.seconds, finished))
    return rows
