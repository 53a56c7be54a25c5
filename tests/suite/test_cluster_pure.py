"""Pure parts of cluster access: retry policy, error mapping, cleanup order, discovery facts."""

from __future__ import annotations

import pytest

from suite.cluster import errors
from suite.cluster.cleanup import CleanupStack
from suite.cluster.discovery import class_facts, redact
from suite.cluster.retry import RetryPolicy, call_with_retries
from suite.quantity import format_quantity, parse_quantity

FAST = RetryPolicy(attempts=4, initial_backoff_s=0.001, max_backoff_s=0.01)


def flaky(failures: list[Exception]) -> tuple[list[int], object]:
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return "ok"

    return calls, fn


def test_transient_errors_are_retried() -> None:
    calls, fn = flaky([errors.ServerError(503, "x", "busy"), errors.Unreachable("reset"),
                       errors.TooManyRequests(429, "x", "slow down")])
    assert call_with_retries(FAST, fn) == "ok"  # type: ignore[arg-type]
    assert len(calls) == 4


@pytest.mark.parametrize("error", [errors.NotFound(404, "NotFound", "gone"),
                                   errors.Invalid(422, "Invalid", "bad"),
                                   errors.Conflict(409, "Conflict", "stale")])
def test_client_errors_fail_at_once(error: Exception) -> None:
    calls, fn = flaky([error])
    with pytest.raises(type(error)):
        call_with_retries(FAST, fn)  # type: ignore[arg-type]
    assert len(calls) == 1


def test_retry_after_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("time.sleep", slept.append)
    busy = errors.from_response(429, b'{"reason":"TooManyRequests","message":"m"}',
                                {"Retry-After": "2"})
    _calls, fn = flaky([busy])
    assert call_with_retries(RetryPolicy(attempts=2, max_backoff_s=1.0), fn) == "ok"  # type: ignore[arg-type]
    assert slept == [2.0]


def test_status_replies_map_to_types() -> None:
    body = b'{"kind":"Status","reason":"AlreadyExists","message":"pvcs \\"a\\" already exists"}'
    error = errors.from_response(409, body)
    assert isinstance(error, errors.Conflict) and error.reason == "AlreadyExists"
    assert error.message == 'pvcs "a" already exists'
    assert isinstance(errors.from_response(502, b"<html>"), errors.ServerError)
    assert isinstance(errors.from_response(403, b"{}"), errors.Forbidden)


def test_cleanup_runs_lifo_and_reports_every_failure() -> None:
    stack = CleanupStack()
    order: list[str] = []

    def fail(name: str) -> None:
        order.append(name)
        raise RuntimeError(f"{name} stuck")

    stack.push("a", lambda: order.append("a"))
    stack.push("b", lambda: fail("b"))
    stack.push("c", lambda: fail("c"))
    problems = stack.run_all()
    assert order == ["c", "b", "a"]
    assert [str(p) for p in problems] == ["c: RuntimeError: c stuck", "b: RuntimeError: b stuck"]
    assert len(stack) == 0 and stack.run_all() == []


def test_secret_references_are_redacted() -> None:
    params = {"csi.storage.k8s.io/provisioner-secret-name": "rbd-secret", "pool": "p",
              "encryptionPassphrase": "hunter2"}
    assert redact(params) == {"csi.storage.k8s.io/provisioner-secret-name": "<redacted>",
                              "pool": "p", "encryptionPassphrase": "<redacted>"}


def test_class_facts_gather_every_declaration() -> None:
    sc = {"metadata": {"name": "gold", "annotations": {
              "storageclass.kubevirt.io/is-default-virt-class": "true"}},
          "provisioner": "gold.csi.io", "allowVolumeExpansion": True,
          "volumeBindingMode": "WaitForFirstConsumer", "parameters": {"a": "b"}}
    csinodes = [{"metadata": {"name": "n1"}, "spec": {"drivers": [
        {"name": "gold.csi.io", "allocatable": {"count": 16}}, {"name": "other"}]}}]
    profiles = {"gold": {"metadata": {"name": "gold", "annotations": {
        "cdi.kubevirt.io/minimumSupportedPvcSize": "4Gi"}},
        "status": {"claimPropertySets": [{"accessModes": ["ReadWriteMany"],
                                          "volumeMode": "Block"}],
                   "cloneStrategy": "csi-clone", "snapshotClass": "gold-snap"}}}
    snaps = [{"metadata": {"name": "gold-snap"}, "driver": "gold.csi.io"},
             {"metadata": {"name": "x"}, "driver": "x"}]
    facts = class_facts(sc, {"gold.csi.io": {"spec": {"attachRequired": True}}}, csinodes,
                        profiles, snaps, {"kubevirtVersion": "v1"})
    assert facts["isDefaultVirtClass"] is True and facts["isDefaultClass"] is False
    assert facts["attachLimits"] == {"n1": 16}
    assert facts["csiDriver"] == {"attachRequired": True}
    assert facts["storageProfile"]["minimumSupportedPvcSize"] == "4Gi"
    assert facts["storageProfile"]["cloneStrategy"] == "csi-clone"
    assert facts["volumeSnapshotClasses"] == ["gold-snap"]
    assert facts["reclaimPolicy"] == "Delete"


@pytest.mark.parametrize(("text", "size"), [("1Gi", 2**30), ("512Mi", 2**29), ("1G", 10**9),
                                            (4096, 4096), ("1.5Gi", 3 * 2**29),
                                            # k is SI as Kubernetes reads it; fractions round up
                                            ("1k", 1000), ("1Ki", 1024), ("1Pi", 2**50),
                                            ("0.5", 1), (" 2Gi ", 2**31)])
def test_quantities(text: object, size: int) -> None:
    assert parse_quantity(text) == size


def test_quantity_errors_and_format() -> None:
    with pytest.raises(ValueError, match="512Mi"):
        parse_quantity("lots")
    assert format_quantity(3 * 2**29) == "1536Mi" and format_quantity(1000) == "1000"
