"""The check framework: what a capability family receives and what it returns.

Families (``suite/checks/<family>.py``) only see a :class:`ClassContext` and only
return :class:`Outcome` objects; the session owns threads, reporting and cleanup.
Keeping this seam tiny lets the families be written, and tested, without the plugin.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

# The catalogue lives in suite.capabilities; families (and code written before it moved)
# import these names from here too.
from suite.capabilities import CAPABILITIES, FAMILY_CAPABILITIES, VERDICTS, Outcome, Verdict
from suite.vm.memo import ModeMemo
from suite.vm.pool import VMPool

if TYPE_CHECKING:
    from suite.cluster.kube import Kube
    from suite.config.profile import RunProfile
    from suite.vm.guestvm import GuestTools


@dataclass
class ClassContext:
    """Everything a family needs to assess one StorageClass.

    ``kube`` creates objects labelled with the run id, in ``namespace`` unless the
    manifest names another, and registers their cleanup. ``progress`` prints a line a
    person can follow during long waits. The perf family appends matrix entries to
    ``performance`` and csv rows to ``fio_rows``.
    """

    kube: Kube
    namespace: str
    storage_class: str
    facts: dict[str, Any]
    profile: RunProfile
    run_id: str
    progress: Callable[[str], None] = lambda message: None
    performance: list[dict[str, Any]] = field(default_factory=list)
    fio_rows: list[dict[str, Any]] = field(default_factory=list)
    # Set by the session on Ctrl-C so long loops in families can stop early.
    cancelled: threading.Event = field(default_factory=threading.Event)
    # Outcomes of the families that already ran for this class (provision runs first),
    # e.g. to pick a volume mode that provisioned; read-only for families.
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    # What provisioning learned about the class's modes, and its idle running VMs: the
    # class's own, for the run's lifetime (the session makes one context per class).
    memo: ModeMemo = field(default_factory=ModeMemo)
    pool: VMPool = field(default_factory=VMPool)
    # Facts the families of one class learn once and share: what the first login saw of
    # the guest image, and the class's user-data Secret (created through ``kube.create``).
    guest_tools: GuestTools | None = None
    user_data_secret: str | None = None


Family = Callable[[ClassContext], list[Outcome]]


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

__all__ = ["CAPABILITIES", "FAMILY_CAPABILITIES", "VERDICTS", "Cell", "ClassContext", "Family",
           "Outcome", "Verdict"]

