"""The first-round truth test with real QEMU guests (`cluster.guests: qemu`): the same
driver files give the same verdicts, cell by cell, as with the process runtime.

One class runs in the default test run: `e2e-rbd`, the first round's richest (Block and
Filesystem, ReadWriteMany, online expansion, snapshots, CSI clone, LUKS, noise), so live
migration, encrypted online expansion and fio all meet a real kernel. The first round's
three driver files are in the `extended` tier: a TCG boot costs 13-90 s on a 2-core
machine and the suite boots several VMs per class.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from suite.lab.compute.qemu import GuestImageMissing, find_image
from tests.e2e.conftest import PROFILE, labelled_leftovers, run_suite
from tests.e2e.test_truth import (
    FAULTS_DATA,
    FAULTS_PLATFORM,
    UNFIT,
    VARIETY,
    assert_matrix_matches,
)

try:
    find_image()
    MISSING = ""
except GuestImageMissing as exc:
    MISSING = str(exc)

pytestmark = pytest.mark.skipif(bool(MISSING), reason=MISSING)
QEMU = {"guests": "qemu"}
ONE_CLASS = [d for d in VARIETY if d["name"] == "e2e-rbd"]
# A TCG boot to `login:` took 28-95 s on the shared 2-core machine (docs/qemu-guests.md),
# beyond the e2e profile's 60 s made for process guests: the suite is told, as a user
# with slow VMs would tell it, to wait longer for the login and for each command.
QEMU_TIMEOUTS = {"login_s": 300, "command_s": 180}


def qemu_profile(folder: Path) -> Path:
    doc = yaml.safe_load(PROFILE.read_text())
    doc["timeouts"].update(QEMU_TIMEOUTS)
    path = folder / "profile-qemu.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _assert_truth(lab_process: Any, tmp_path: Path, drivers: list[dict[str, Any]]) -> None:
    lab = lab_process(drivers, QEMU)
    result = run_suite(lab.kubeconfig, tmp_path / "reports", "--profile",
                       str(qemu_profile(tmp_path)), timeout_s=3600)
    assert_matrix_matches(result, drivers)
    assert labelled_leftovers(lab.kubeconfig) == []


@pytest.mark.slow
def test_one_class_with_qemu_guests(lab_process: Any, tmp_path: Path) -> None:
    _assert_truth(lab_process, tmp_path, ONE_CLASS)


@pytest.mark.slow
@pytest.mark.parametrize("drivers", [VARIETY + UNFIT, FAULTS_DATA, FAULTS_PLATFORM],
                         ids=["variety-noisy", "data-faults", "platform-faults"])
@pytest.mark.extended
def test_first_round_with_qemu_guests(lab_process: Any, tmp_path: Path,
                                      drivers: list[dict[str, Any]]) -> None:
    _assert_truth(lab_process, tmp_path, drivers)
