"""KubeVirt's migration webhooks in the lab (migration-create-admitter.go,
migration-update-admitter.go): 422 for a missing vmiName or a changed spec, 400 with the
error text for a VMI that is missing, final, or already migrating."""

from __future__ import annotations

from typing import Any

import kubernetes
import pytest
from admhelpers import KV, refusal, vm, wait_until

from suite.lab.lab import Lab

CREATE = 'admission webhook "migration-create-validator.kubevirt.io" denied the request: '
UPDATE = 'admission webhook "migration-update-validator.kubevirt.io" denied the request: '
PLURAL = "virtualmachineinstancemigrations"


def _custom(api_client: Any) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(api_client)


def _migration(name: str, vmi: str | None) -> dict[str, Any]:
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
            "metadata": {"name": name}, "spec": {"vmiName": vmi} if vmi else {}}


def _create(api_client: Any, ns: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return refusal(lambda: _custom(api_client).create_namespaced_custom_object(
        *KV, ns, PLURAL, body))


@pytest.fixture(scope="module")
def running_vmi(api_client: Any, ns: str) -> str:
    _custom(api_client).create_namespaced_custom_object(
        *KV, ns, "virtualmachines", vm("mover", run_strategy="Always"))
    wait_until(lambda: _custom(api_client).get_namespaced_custom_object(
        *KV, ns, "virtualmachines", "mover"),
        lambda v: (v.get("status") or {}).get("printableStatus") == "Running", "VM running")
    return "mover"


def test_vmi_name_is_required(api_client: Any, ns: str) -> None:
    code, status = _create(api_client, ns, _migration("nameless", None))
    assert code == 422 and status["reason"] == "Invalid"
    assert status["message"] == CREATE + "vmiName is missing"
    assert status["details"]["causes"] == [{"reason": "FieldValueRequired",
                                            "message": "vmiName is missing",
                                            "field": "spec.vmiName"}]


def test_the_vmi_must_exist(api_client: Any, ns: str) -> None:
    code, status = _create(api_client, ns, _migration("nowhere", "absent"))
    assert code == 400
    assert status["message"] == CREATE + f'the VMI "{ns}/absent" does not exist'


def test_a_final_vmi_cannot_migrate(lab: Lab, api_client: Any, ns: str) -> None:
    final = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
             "metadata": {"name": "ended", "namespace": ns}, "spec": {},
             "status": {"phase": "Succeeded"}}
    lab.call(lab.ctx.store.create, "kubevirt.io/virtualmachineinstances", final)
    code, status = _create(api_client, ns, _migration("too-late", "ended"))
    assert code == 400
    assert status["message"] == CREATE + "Cannot migrate VMI in finalized state."


def test_one_migration_at_a_time_and_its_spec_is_fixed(api_client: Any, ns: str,
                                                       running_vmi: str) -> None:
    first = _custom(api_client).create_namespaced_custom_object(
        *KV, ns, PLURAL, _migration("first", running_vmi))
    assert first["metadata"]["labels"]["kubevirt.io/vmi-name"] == running_vmi
    code, status = _create(api_client, ns, _migration("second", running_vmi))
    assert code == 400
    assert status["message"] == (
        CREATE + f"in-flight migration detected. Active migration job "
        f"({first['metadata']['uid']}) is currently already in progress for VMI {running_vmi}.")
    code, status = refusal(lambda: _custom(api_client).patch_namespaced_custom_object(
        *KV, ns, PLURAL, "first", {"spec": {"vmiName": "other"}}))
    assert code == 422 and status["reason"] == "Invalid"
    assert status["message"] == UPDATE + "update of Migration object's spec is restricted"
    wait_until(lambda: _custom(api_client).get_namespaced_custom_object(
        *KV, ns, PLURAL, "first"),
        lambda m: (m.get("status") or {}).get("phase") in ("Succeeded", "Failed"),
        "the first migration to end")
    _custom(api_client).create_namespaced_custom_object(
        *KV, ns, PLURAL, _migration("third", running_vmi))
