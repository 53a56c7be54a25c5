"""The one mapping from a step's exception to the cell's Outcome (pure logic)."""

from __future__ import annotations

import pytest

from suite.checks.base import Cell
from suite.checks.failures import (
    GUEST_ERRORS,
    GUEST_IO_ERRORS,
    STEP_ERRORS,
    outcome_of,
    outcomes_of,
)
from suite.cluster.errors import Cancelled, KubeError, WaitFailed, WaitTimeout
from suite.guest.console import ConsoleError, ConsoleTimeout
from suite.guest.probe import ProbeError
from suite.vm.errors import BootFailure, NoVolume, StepFailed


def test_a_storage_step_keeps_its_verdict_and_reason() -> None:
    outcome = outcome_of(Cell("snapshot.vm"),
                         StepFailed("unsupported", "VirtualMachineSnapshot left the data disk out"))
    assert (outcome.verdict, outcome.reason) == (
        "unsupported", "VirtualMachineSnapshot left the data disk out")


def test_no_volume_is_skipped_for_the_storage_and_inconclusive_for_the_environment() -> None:
    refused = outcome_of(Cell("clone.dv"), NoVolume({"Block/ReadWriteOnce": "refused: no"},
                                                    {"refused"}))
    assert refused.verdict == "skipped"
    assert refused.reason == ("no volume of the class could be provisioned "
                              "(Block/ReadWriteOnce: refused: no)")
    failed = outcome_of(Cell("clone.dv"), NoVolume({"Block/ReadWriteOnce": "failed: pull"},
                                                   {"refused", "failed"}))
    assert failed.verdict == "inconclusive"


@pytest.mark.parametrize("error", [
    ConsoleError("console of vm closed"), ProbeError("size", 3, "missing disk"),
    BootFailure("failed", "VM x is ErrImagePull", {}), WaitTimeout("VM x to stop", 5, None),
    WaitFailed("migration m", "Failed", None), KubeError(500, "InternalError", "boom"),
])
def test_anything_else_could_not_complete(error: Exception) -> None:
    outcome = outcome_of(Cell("migration.live"), error)
    assert outcome.verdict == "inconclusive"
    assert outcome.reason.startswith("could not complete: ")
    assert outcome.reason.removeprefix("could not complete: ") == " ".join(str(error).split())


def test_a_family_names_its_own_prefix_and_cells_sharing_a_step_share_the_answer() -> None:
    cells = [Cell("expand.offline"), Cell("expand.online")]
    outcomes = outcomes_of(cells, ConsoleTimeout("no answer\nin 30s"), "guest step failed")
    assert [o.capability for o in outcomes] == ["expand.offline", "expand.online"]
    assert {o.reason for o in outcomes} == {"guest step failed: no answer in 30s"}


def test_the_groups_nest_and_leave_cancellation_alone() -> None:
    assert set(GUEST_IO_ERRORS) < set(GUEST_ERRORS) < set(STEP_ERRORS)
    assert StepFailed in STEP_ERRORS and NoVolume not in STEP_ERRORS
    # Ctrl-C is not a step failure: it must reach the assessment, which says "interrupted"
    assert not issubclass(Cancelled, STEP_ERRORS)
