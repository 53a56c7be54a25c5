"""The one place where what a check's steps raise becomes the cell's Outcome.

The steps (``suite/vm``, ``suite/guest``, ``suite/cluster``) raise typed exceptions;
families catch one of the named groups below and hand the exception to
:func:`outcome_of`. Most failures only say the check could not be completed
(``inconclusive``, the environment's or a step's fault, never a storage verdict); the
two that carry a storage verdict keep it: ``StepFailed`` (a snapshot or restore the
storage failed) and ``NoVolume`` (no volume of the class: ``skipped`` or
``inconclusive``). What a family catches beyond these groups, and in what order, stays
in the family, where the check's own meaning is (a refusal, a node pod denied).
"""

from __future__ import annotations

from collections.abc import Iterable

from suite.checks.base import Cell, Outcome
from suite.cluster.errors import KubeError, WaitFailed, WaitTimeout
from suite.guest.console import ConsoleError
from suite.guest.probe import ProbeError
from suite.vm.errors import BootFailure, NoVolume, StepFailed
from suite.vm.evidence import short

# The guest could not run a command (console gone, probe error).
GUEST_IO_ERRORS = (ConsoleError, ProbeError)
# ... or the VM did not come up at all.
GUEST_ERRORS = (*GUEST_IO_ERRORS, BootFailure)
# Any step of a check: the guest, a wait on the cluster, an API call, a storage step.
STEP_ERRORS = (
    *GUEST_ERRORS, StepFailed, WaitTimeout, WaitFailed, KubeError)

INCOMPLETE = "could not complete"


def outcome_of(cell: Cell, error: Exception, prefix: str = INCOMPLETE) -> Outcome:
    """The Outcome for a step that raised ``error``; ``prefix`` starts the reason of an
    ``inconclusive`` one (e.g. "guest step failed")."""
    if isinstance(error, NoVolume):
        return cell.done(error.verdict, str(error))
    if isinstance(error, StepFailed):
        return cell.done(error.verdict, error.reason)
    return cell.done("inconclusive", f"{prefix}: {short(error)}")


def outcomes_of(cells: Iterable[Cell], error: Exception, prefix: str = INCOMPLETE
                ) -> list[Outcome]:
    """:func:`outcome_of` for every cell a step shared (one VM serving two cells)."""
    return [outcome_of(cell, error, prefix) for cell in cells]
