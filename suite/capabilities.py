"""The capability catalogue: stable capability ids, the verdicts, and one decided cell.

A leaf module (it imports nothing from the suite), because every layer speaks these
words: the run profile names families, the checks return Outcomes, the reports and the
plugin read them. The ids and verdicts are the public contract in docs/contracts.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Verdict = Literal["supported", "unsupported", "broken", "inconclusive", "skipped"]
VERDICTS: tuple[str, ...] = ("supported", "unsupported", "broken", "inconclusive", "skipped")

# Stable capability ids (docs/contracts.md), grouped by the family that owns them.
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
    "state": ("state.persistent",),
    "storage_migration": ("migration.storage",),
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
