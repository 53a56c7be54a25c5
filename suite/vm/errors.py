"""What the VM steps raise when they cannot give the check what it asked for.

Typed so that one place, ``suite/checks/failures.py``, turns each into the cell's
Outcome: a step the storage failed (``StepFailed``) carries its verdict, a VM that did
not come up (``BootFailure``) or no volume at all (``NoVolume``) say why, and the
families only decide which of them they catch.
"""

from __future__ import annotations

from typing import Any


class VMError(Exception):
    """Base of the VM steps' failures."""


class BootFailure(VMError):
    """The VM did not come up; `kind` is refused | hung | failed."""

    def __init__(self, kind: str, message: str, evidence: dict[str, Any]) -> None:
        super().__init__(message)
        self.kind, self.message, self.evidence = kind, message, evidence


class NoVolume(VMError):
    """No candidate mode gave a running VM; `attempts` maps 'Mode/Access' to the reason."""

    def __init__(self, attempts: dict[str, str], kinds: set[str]) -> None:
        detail = "; ".join(f"{k}: {v}" for k, v in attempts.items()) or "no mode to try"
        super().__init__(f"no volume of the class could be provisioned ({detail})")
        self.attempts, self.kinds = attempts, kinds

    @property
    def verdict(self) -> str:
        """`skipped` when the storage gave no volume (refused / hung), `inconclusive` when
        VMs failed for other reasons (image pull, scheduling): the environment's fault."""
        return "inconclusive" if "failed" in self.kinds else "skipped"


class StepFailed(VMError):
    """A storage step (a snapshot, a restore) failed or never finished: ``verdict``
    (broken | unsupported) and ``reason`` are the cell's answer, about the storage."""

    def __init__(self, verdict: str, reason: str) -> None:
        super().__init__(reason)
        self.verdict, self.reason = verdict, reason
