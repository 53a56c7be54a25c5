"""The lab's one conditions helper: lastTransitionTime moves only when the status does
(as meta.SetStatusCondition), the same write twice is a no-op, shapes per API."""

from __future__ import annotations

import itertools

import pytest

from suite.lab import conditions as cond
from suite.lab.objects import owner_ref


@pytest.fixture(autouse=True)
def ticking_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = itertools.count()
    monkeypatch.setattr(cond, "now_rfc3339", lambda: f"t{next(ticks)}")


def test_transition_time_moves_only_with_the_status() -> None:
    conditions: cond.Conditions = []
    cond.put(conditions, "Ready", "False", "Pending", "waiting")
    assert conditions[0]["lastTransitionTime"] == "t0"
    cond.put(conditions, "Ready", "False", "Other", "still waiting")
    assert conditions[0]["lastTransitionTime"] == "t0"
    assert (conditions[0]["reason"], conditions[0]["message"]) == ("Other", "still waiting")
    cond.put(conditions, "Ready", "True")
    assert conditions[0]["lastTransitionTime"] != "t0"
    assert "reason" not in conditions[0] and "message" not in conditions[0]
    assert conditions[0]["lastProbeTime"] is None


def test_same_write_is_a_no_op_and_entries_are_replaced_not_edited() -> None:
    conditions = cond.put([], "Bound", "True", "Bound", "PVC x Bound", **cond.CDI_SHAPE)
    first = conditions[0]
    assert first == {"type": "Bound", "status": "True", "lastTransitionTime": "t0",
                     "lastHeartbeatTime": "t0", "reason": "Bound", "message": "PVC x Bound"}
    cond.put(conditions, "Bound", "True", "Bound", "PVC x Bound", **cond.CDI_SHAPE)
    assert conditions[0] is first  # nothing changed: nothing written
    cond.put(conditions, "Bound", "False", "Pending", "PVC x Pending", **cond.CDI_SHAPE)
    assert first["status"] == "True"  # the old entry a caller may hold is untouched
    assert conditions[0]["lastTransitionTime"] == conditions[0]["lastHeartbeatTime"] != "t0"


def test_empty_reason_kept_for_storage_and_drop() -> None:
    conditions = cond.put([], "Resizing", "True", **cond.PVC_SHAPE)
    assert conditions == [{"type": "Resizing", "status": "True", "lastTransitionTime": "t0",
                           "reason": "", "message": ""}]
    cond.put(conditions, "FileSystemResizePending", "True", **cond.PVC_SHAPE)
    assert [c["type"] for c in cond.drop(conditions, "Resizing")] == ["FileSystemResizePending"]
    assert cond.is_true(conditions, "FileSystemResizePending")
    assert not cond.is_true(conditions, "Resizing") and cond.get(conditions, "Resizing") is None


def test_owner_ref_points_at_the_owner() -> None:
    vm = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
          "metadata": {"name": "vm", "namespace": "ns", "uid": "u-1"}}
    assert owner_ref(vm, controller=False) == {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "name": "vm", "uid": "u-1",
        "controller": False, "blockOwnerDeletion": True}
