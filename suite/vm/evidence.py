"""Small helpers every family uses to time a cell and build its Outcome."""

from __future__ import annotations

import time
from typing import Any

from suite.capabilities import Outcome


class Cell:
    """Times one capability from construction; `done(...)` makes its Outcome."""

    def __init__(self, capability: str) -> None:
        self.capability = capability
        self.started = time.monotonic()
        self.evidence: dict[str, Any] = {}

    def restart(self) -> None:
        """Start timing now: the cell's own work begins after an earlier cell's."""
        self.started = time.monotonic()

    def done(self, verdict: str, reason: str, **evidence: Any) -> Outcome:
        self.evidence.update(evidence)
        return Outcome(self.capability, verdict, reason,  # type: ignore[arg-type]
                       dict(self.evidence), time.monotonic() - self.started)


def short(error: BaseException) -> str:
    """An exception as one line for a reason."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:300]
