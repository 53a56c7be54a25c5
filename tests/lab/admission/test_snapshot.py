"""VolumeSnapshot spec rules in the lab: the CEL validations of external-snapshotter's
CRD, reported by the API server as 422 `Invalid value: "<type>": <message>`."""

from __future__ import annotations

from typing import Any

import kubernetes
from admhelpers import SNAP, refusal

KIND = 'VolumeSnapshot.snapshot.storage.k8s.io'


def _custom(api_client: Any) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(api_client)


def _snapshot(name: str, source: dict[str, str], klass: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"source": source}
    if klass is not None:
        spec["volumeSnapshotClassName"] = klass
    return {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
            "metadata": {"name": name}, "spec": spec}


def test_exactly_one_source(api_client: Any, ns: str) -> None:
    body = _snapshot("two", {"persistentVolumeClaimName": "a", "volumeSnapshotContentName": "b"})
    code, status = refusal(lambda: _custom(api_client).create_namespaced_custom_object(
        *SNAP, ns, "volumesnapshots", body, dry_run="All"))
    assert code == 422 and status["reason"] == "Invalid"
    assert status["message"] == (
        f'{KIND} "two" is invalid: spec.source: Invalid value: "object": exactly one of '
        "volumeSnapshotContentName and persistentVolumeClaimName must be set")


def test_class_name_is_never_empty(api_client: Any, ns: str) -> None:
    body = _snapshot("noclass", {"persistentVolumeClaimName": "a"}, klass="")
    code, status = refusal(lambda: _custom(api_client).create_namespaced_custom_object(
        *SNAP, ns, "volumesnapshots", body, dry_run="All"))
    assert code == 422
    assert status["message"] == (
        f'{KIND} "noclass" is invalid: spec.volumeSnapshotClassName: Invalid value: "string": '
        "volumeSnapshotClassName must not be the empty string when set")


def test_the_source_is_immutable(api_client: Any, ns: str) -> None:
    _custom(api_client).create_namespaced_custom_object(
        *SNAP, ns, "volumesnapshots", _snapshot("fixed", {"persistentVolumeClaimName": "a"}))
    code, status = refusal(lambda: _custom(api_client).patch_namespaced_custom_object(
        *SNAP, ns, "volumesnapshots", "fixed",
        {"spec": {"source": {"persistentVolumeClaimName": "b"}}}))
    assert code == 422
    assert status["message"] == (
        f'{KIND} "fixed" is invalid: spec.source.persistentVolumeClaimName: Invalid value: '
        '"string": persistentVolumeClaimName is immutable')
    code, status = refusal(lambda: _custom(api_client).patch_namespaced_custom_object(
        *SNAP, ns, "volumesnapshots", "fixed",
        {"spec": {"source": {"persistentVolumeClaimName": None,
                             "volumeSnapshotContentName": "c"}}}))
    assert code == 422
    assert ('spec.source: Invalid value: "object": persistentVolumeClaimName is required '
            "once set") in status["message"]
