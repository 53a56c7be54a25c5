"""Run strategies and the legacy `running` field, driven through start / stop / restart
exactly as virtctl does, with KubeVirt's refusals."""

from __future__ import annotations

from typing import Any

import kubernetes
import pytest
from kvhelpers import (
    cloud_init,
    create_vm,
    get_vm,
    get_vmi,
    vm_action,
    vm_manifest,
    wait_for,
    wait_printable,
)


def _refusal(api_client: Any, ns: str, name: str, action: str) -> tuple[int, str]:
    with pytest.raises(kubernetes.client.ApiException) as refused:
        vm_action(api_client, ns, name, action)
    return refused.value.status, refused.value.body


def test_manual_strategy_follows_requests(api_client: Any, kv: Any, ns: str) -> None:
    create_vm(kv, ns, vm_manifest("manual", user_data=cloud_init("pw"), run_strategy="Manual"))
    vm = wait_printable(kv, ns, "manual", "Stopped")
    assert vm["status"]["conditions"][0]["reason"] == "VMINotExists"
    assert vm_action(api_client, ns, "manual", "start") == 202
    wait_printable(kv, ns, "manual", "Running")
    assert _refusal(api_client, ns, "manual", "start")[0] == 409
    assert vm_action(api_client, ns, "manual", "stop") == 202
    wait_printable(kv, ns, "manual", "Stopped")
    status, body = _refusal(api_client, ns, "manual", "stop")
    assert status == 409 and "VM is not running" in body


def test_legacy_running_field_and_halted_refusals(api_client: Any, kv: Any, ns: str) -> None:
    legacy = vm_manifest("legacy", user_data=cloud_init("pw"))
    del legacy["spec"]["runStrategy"]
    legacy["spec"]["running"] = True
    create_vm(kv, ns, legacy)
    wait_printable(kv, ns, "legacy", "Running")
    assert vm_action(api_client, ns, "legacy", "stop") == 202
    vm = wait_printable(kv, ns, "legacy", "Stopped")
    assert vm["spec"]["running"] is False and "runStrategy" not in vm["spec"]
    status, body = _refusal(api_client, ns, "legacy", "restart")
    assert status == 409 and "RunStategy Halted does not support manual restart" in body
    assert vm_action(api_client, ns, "legacy", "start") == 202
    wait_printable(kv, ns, "legacy", "Running")
    assert get_vm(kv, ns, "legacy")["spec"]["running"] is True


def test_always_strategy_refuses_start_and_restarts(api_client: Any, kv: Any, ns: str) -> None:
    create_vm(kv, ns, vm_manifest("always", user_data=cloud_init("pw")))
    wait_printable(kv, ns, "always", "Running")
    status, body = _refusal(api_client, ns, "always", "start")
    assert status == 409 and "VM is already running" in body
    first = get_vmi(kv, ns, "always")["metadata"]["uid"]
    assert vm_action(api_client, ns, "always", "restart", {"gracePeriodSeconds": 0}) == 202
    wait_for(lambda: get_vmi(kv, ns, "always"),
             lambda v: v and v["metadata"]["uid"] != first
             and v.get("status", {}).get("phase") == "Running", "the restarted VMI")
