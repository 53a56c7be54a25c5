"""The check framework: what a capability family receives and what it returns.

Families (``suite/checks/<family>.py``) only see a :class:`ClassContext` and only
return :class:`Outcome` objects; the session owns threads, reporting and cleanup.
Keeping this seam tiny lets the families be written, and tested, without the plugin.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from suite.cluster.kube import Kube
    from suite.config.profile import Profile

Verdict = Literal["supported", "unsupported", "broken", "inconclusive", "skipped"]
VERDICTS: tuple[str, ...] = ("supported", "unsupported", "broken", "inconclusive", "skipped")

# Stable capability ids (DESIGN.md), grouped by the family that owns them.
FAMILY_CAPABILITIES: dict[str, tuple[str, ...]] = {
    "provision": (
        "provision.block.rwo",
        "provision.block.rwx",
        "provision.filesystem.rwo",
        "provision.filesystem.rwx",
    ),
    "expand": ("expand.offline", "expand.online"),
    "snapshot": ("snapshot.volume", "snapshot.vm"),
    "clone": ("clone.volume",),
    "migration": ("migration.live",),
    "encryption": ("encryption.at-rest",),
    "perf": ("perf.fio",),
    "bootstorm": ("scale.bootstorm",),
    "hotplug": ("hotplug.volume",),
    "export": ("export.vm",),
}
CAPABILITIES: tuple[str, ...] = tuple(c for caps in FAMILY_CAPABILITIES.values() for c in caps)


@dataclass
class Outcome:
    """One matrix cell: a verdict with a one-line reason, the evidence and the time it took."""

    capability: str
    verdict: Verdict
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r} for {self.capability}")
        # A reason is one line: reports put it in a table cell.
        self.reason = " ".join(str(self.reason).split())

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "evidence": self.evidence,
            "seconds": round(float(self.seconds), 3),
        }


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
    profile: Profile
    run_id: str
    progress: Callable[[str], None] = lambda message: None
    performance: list[dict[str, Any]] = field(default_factory=list)
    fio_rows: list[dict[str, Any]] = field(default_factory=list)
    # Set by the session on Ctrl-C so long loops in families can stop early.
    cancelled: threading.Event = field(default_factory=threading.Event)
    # Outcomes of the families that already ran for this class (provision runs first),
    # e.g. to pick a volume mode that provisioned; read-only for families.
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    # Scratch space shared by the families of one class (e.g. a VM reused across checks
    # when ``profile.reuse_vms``); whatever is created still goes through ``kube.create``.
    shared: dict[str, Any] = field(default_factory=dict)


Family = Callable[[ClassContext], list[Outcome]]

