"""Pure logic of the admission modules that the lab cannot reach on demand: an in-flight
migration's selector label (a lab migration ends too fast to race it) and KubeVirt's
cap of ten causes per message."""

from __future__ import annotations

import pytest

from suite.lab.admission.kubevirt_migration import SELECTOR_LABEL, admit_update
from suite.lab.admission.webhook import VM_VALIDATOR, WebhookDenial, invalid, kubevirt_causes

UPDATE = 'admission webhook "migration-update-validator.kubevirt.io" denied the request: '


def _migration(labels: dict[str, str] | None, phase: str = "Running") -> dict:
    meta: dict = {"name": "m", "namespace": "ns"}
    if labels is not None:
        meta["labels"] = labels
    return {"metadata": meta, "spec": {"vmiName": "vm"}, "status": {"phase": phase}}


@pytest.mark.parametrize(("labels", "message"), [
    (None, "selector label can't be removed from an in-flight migration"),
    ({SELECTOR_LABEL: "other"}, "selector label can't be modified on an in-flight migration"),
    ({"unrelated": "x"}, "selector label can't be modified on an in-flight migration"),
])
def test_in_flight_migration_keeps_its_selector_label(labels: dict[str, str] | None,
                                                      message: str) -> None:
    with pytest.raises(WebhookDenial) as denied:
        admit_update(_migration(labels), _migration({SELECTOR_LABEL: "vm"}))
    assert denied.value.code == 422 and denied.value.reason == "Invalid"
    assert denied.value.message == UPDATE + message


def test_a_finished_migration_may_drop_its_label() -> None:
    admit_update(_migration(None, "Succeeded"), _migration({SELECTOR_LABEL: "vm"}))


def test_kubevirt_lists_ten_causes_then_counts_the_rest() -> None:
    denial = kubevirt_causes(VM_VALIDATOR, [invalid(f"problem {i}") for i in range(12)])
    assert denial.message.endswith("problem 8, problem 9, and 2 more validation errors")
    assert len(denial.details["causes"]) == 10
    assert "reason" in denial.status()


def test_a_relayed_status_without_reason_omits_it() -> None:
    from suite.lab.admission.webhook import kubevirt_error

    status = kubevirt_error(VM_VALIDATOR, "boom").status()
    assert "reason" not in status and status["code"] == 400
    assert status["message"] == f'admission webhook "{VM_VALIDATOR}" denied the request: boom'
