"""The API server's PVC rules in the lab (kubernetes pkg/apis/core/validation,
PersistentVolumeClaimResize): 422 field errors for a claim without access modes or size,
a changed spec, a shrink; 403 for growing on a class that does not allow it."""

from __future__ import annotations

from typing import Any

import kubernetes
from admhelpers import refusal, storage, wait_until

SPEC_IMMUTABLE = ("spec: Forbidden: spec is immutable after creation except resources.requests "
                  "and volumeAttributesClassName for bound claims")


def _core(api_client: Any) -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(api_client)


def _claim(api_client: Any, ns: str, name: str, storage_class: str = "lab-slow") -> None:
    _core(api_client).create_namespaced_persistent_volume_claim(ns, {
        "metadata": {"name": name}, "spec": storage("64Mi", storage_class)})


def _bound(api_client: Any, ns: str, name: str) -> Any:
    return wait_until(lambda: _core(api_client).read_namespaced_persistent_volume_claim(
        name, ns), lambda p: p.status.phase == "Bound", f"claim {name} bound")


def _patch(api_client: Any, ns: str, name: str, spec: dict[str, Any]
           ) -> tuple[int, dict[str, Any]]:
    return refusal(lambda: _core(api_client).patch_namespaced_persistent_volume_claim(
        name, ns, {"spec": spec}))


def test_access_modes_and_size_are_required(api_client: Any, ns: str) -> None:
    code, status = refusal(lambda: _core(api_client).create_namespaced_persistent_volume_claim(
        ns, {"metadata": {"name": "bare"}, "spec": {"storageClassName": "lab-slow"}}))
    assert code == 422 and status["reason"] == "Invalid"
    assert status["message"] == (
        'PersistentVolumeClaim "bare" is invalid: [spec.accessModes: Required value: at least '
        "1 access mode is required, spec.resources[storage]: Required value]")


def test_spec_is_immutable_after_binding(api_client: Any, ns: str) -> None:
    _claim(api_client, ns, "fixed")
    _bound(api_client, ns, "fixed")
    code, status = _patch(api_client, ns, "fixed", {"accessModes": ["ReadWriteMany"]})
    assert code == 422 and status["reason"] == "Invalid"
    assert status["message"].startswith(f'PersistentVolumeClaim "fixed" is invalid: '
                                        f"{SPEC_IMMUTABLE}\n")
    assert status["details"]["causes"][0]["field"] == "spec"


def test_an_unbound_claim_cannot_be_resized(api_client: Any, ns: str) -> None:
    _core(api_client).create_namespaced_persistent_volume_claim(ns, {
        "metadata": {"name": "waiting"}, "spec": storage("64Mi", "lab-local")})
    code, status = _patch(api_client, ns, "waiting",
                          {"resources": {"requests": {"storage": "128Mi"}}})
    assert code == 422
    assert status["message"].startswith(f'PersistentVolumeClaim "waiting" is invalid: '
                                        f"{SPEC_IMMUTABLE}\n")


def test_no_shrinking(api_client: Any, ns: str) -> None:
    _claim(api_client, ns, "shrink")
    _bound(api_client, ns, "shrink")
    code, status = _patch(api_client, ns, "shrink", {"resources": {"requests": {
        "storage": "32Mi"}}})
    assert code == 422
    assert status["message"] == (
        'PersistentVolumeClaim "shrink" is invalid: spec.resources.requests.storage: '
        "Forbidden: field can not be less than status.capacity")


def test_growing_needs_a_class_that_allows_it(api_client: Any, ns: str) -> None:
    _core(api_client).create_namespaced_persistent_volume_claim(ns, {
        "metadata": {"name": "local", "annotations": {
            "volume.kubernetes.io/selected-node": "lab-node-1"}},
        "spec": storage("64Mi", "lab-local")})
    _bound(api_client, ns, "local")
    code, status = _patch(api_client, ns, "local", {"resources": {"requests": {
        "storage": "128Mi"}}})
    assert code == 403 and status["reason"] == "Forbidden"
    assert status["message"] == (
        'persistentvolumeclaims "local" is forbidden: only dynamically provisioned pvc can be '
        "resized and the storageclass that provisions the pvc must support resize")


def test_a_bound_claim_grows_and_keeps_equal_quantities(api_client: Any, ns: str) -> None:
    _claim(api_client, ns, "grow")
    _bound(api_client, ns, "grow")
    same = _core(api_client).patch_namespaced_persistent_volume_claim(
        "grow", ns, {"spec": {"resources": {"requests": {"storage": str(64 << 20)}}}})
    assert same.spec.resources.requests["storage"] in ("64Mi", str(64 << 20))
    grown = _core(api_client).patch_namespaced_persistent_volume_claim(
        "grow", ns, {"spec": {"resources": {"requests": {"storage": "96Mi"}}}})
    assert grown.spec.resources.requests["storage"] == "96Mi"


def test_a_claim_without_class_gets_the_default_and_starts_pending(api_client: Any,
                                                                    ns: str) -> None:
    storage_api = kubernetes.client.StorageV1Api(api_client)
    default = next(sc.metadata.name for sc in storage_api.list_storage_class().items
                   if (sc.metadata.annotations or {}).get(
                       "storageclass.kubernetes.io/is-default-class") == "true")
    spec = storage("64Mi")
    del spec["storageClassName"]
    created = _core(api_client).create_namespaced_persistent_volume_claim(
        ns, {"metadata": {"name": "defaulted"}, "spec": spec, "status": {"phase": "Bound"}})
    assert created.spec.storage_class_name == default
    assert created.status.phase == "Pending"
