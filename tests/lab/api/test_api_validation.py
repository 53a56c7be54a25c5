"""Field validation through the client: Strict refuses, Warn warns and drops, Ignore
drops; wrong types, missing required fields and bad enum values are 422 Invalid."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from suite.lab.lab import Lab


@pytest.fixture(scope="module")
def ns(api_client: client.ApiClient, unique_name: Callable[[str], str]) -> str:
    name = unique_name("valid")
    client.CoreV1Api(api_client).create_namespace({"metadata": {"name": name}})
    return name


def _pvc(name: str, **spec_extra: object) -> dict:
    return {"metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "1Gi"}}, **spec_extra}}


def test_strict_names_every_unknown_field(api_client: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api_client)
    body = _pvc("strict", storageClass="x")
    body["spec"]["resources"]["request"] = {}
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_persistent_volume_claim(ns, body, field_validation="Strict")
    status = json.loads(caught.value.body)
    assert caught.value.status == 400 and status["reason"] == "BadRequest"
    assert status["message"] == (
        'PersistentVolumeClaim in version "v1" cannot be handled as a PersistentVolumeClaim: '
        'strict decoding error: unknown field "spec.resources.request", '
        'unknown field "spec.storageClass"')  # in document order, as the decoder meets them


def test_warn_accepts_drops_and_warns(api_client: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api_client)
    raw = core.create_namespaced_persistent_volume_claim(
        ns, _pvc("warned", storageClass="x"), field_validation="Warn",
        _preload_content=False)
    assert 'unknown field \\"spec.storageClass\\"' in raw.headers["Warning"]
    raw_stored = core.read_namespaced_persistent_volume_claim("warned", ns,
                                                              _preload_content=False)
    assert "storageClass" not in json.loads(raw_stored.data)["spec"]  # dropped, not kept


def test_ignore_accepts_silently(api_client: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api_client)
    raw = core.create_namespaced_persistent_volume_claim(
        ns, _pvc("ignored", storageClass="x"), field_validation="Ignore",
        _preload_content=False)
    assert "Warning" not in raw.headers


def test_wrong_types_are_invalid_with_field_paths(api_client: client.ApiClient,
                                                  ns: str) -> None:
    custom = client.CustomObjectsApi(api_client)
    body = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
            "metadata": {"name": "typed"},
            "spec": {"source": {"http": {"url": 5}},
                     "storage": {"accessModes": "ReadWriteOnce"}}}
    with pytest.raises(ApiException) as caught:
        custom.create_namespaced_custom_object("cdi.kubevirt.io", "v1beta1", ns,
                                               "datavolumes", body)
    status = json.loads(caught.value.body)
    assert caught.value.status == 422 and status["reason"] == "Invalid"
    fields = {c["field"]: c["message"] for c in status["details"]["causes"]}
    assert fields["spec.source.http.url"] == (
        'Invalid value: "integer": spec.source.http.url in body must be of type string: '
        '"integer"')
    assert "spec.storage.accessModes" in fields
    assert status["message"].startswith('DataVolume.cdi.kubevirt.io "typed" is invalid: [')


def test_int_or_string_and_quantities_accept_both(api_client: client.ApiClient,
                                                  ns: str) -> None:
    core = client.CoreV1Api(api_client)
    body = _pvc("quantity")
    body["spec"]["resources"]["requests"]["storage"] = 1073741824
    made = core.create_namespaced_persistent_volume_claim(ns, body, field_validation="Strict")
    assert made.spec.resources.requests["storage"] in ("1073741824", 1073741824)


def test_required_field_missing(api_client: client.ApiClient, ns: str) -> None:
    custom = client.CustomObjectsApi(api_client)
    with pytest.raises(ApiException) as caught:
        custom.create_namespaced_custom_object(
            "snapshot.storage.k8s.io", "v1", ns, "volumesnapshots",
            {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
             "metadata": {"name": "nospec"}})
    causes = json.loads(caught.value.body)["details"]["causes"]
    assert {"reason": "FieldValueRequired", "message": "Required value",
            "field": "spec"} in causes


def test_names_follow_rfc_1123(api_client: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api_client)
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map(ns, {"metadata": {"name": "Bad_Name"}})
    status = json.loads(caught.value.body)
    assert caught.value.status == 422
    assert status["details"]["causes"][0]["field"] == "metadata.name"
    assert "RFC 1123 subdomain" in status["message"]
    with pytest.raises(ApiException) as caught:
        core.create_namespace({"metadata": {"name": "has.dot"}})
    assert "RFC 1123 label" in json.loads(caught.value.body)["message"]
    made = core.create_namespaced_config_map(ns, {"metadata": {"name": "ok.dotted-name"}})
    assert made.metadata.name == "ok.dotted-name"


def test_fields_a_controller_stored_do_not_fail_client_updates(
        lab: Lab, api_client: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "ctrl"}})

    def add_note(obj: dict) -> None:
        obj["labNote"] = "written by a controller"

    lab.call(lab.ctx.store.mutate, "configmaps", ns, "ctrl", add_note)
    core.patch_namespaced_config_map("ctrl", ns, {"data": {"a": "b"}},
                                     field_validation="Strict")
    with pytest.raises(ApiException) as caught:
        core.patch_namespaced_config_map("ctrl", ns, {"clientNote": "x"},
                                         field_validation="Strict")
    assert 'unknown field "clientNote"' in json.loads(caught.value.body)["message"]


def test_label_keys_and_values_are_checked(api_client: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api_client)
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map(ns, {"metadata": {
            "name": "labels", "labels": {"kvstorage.io/run-id": "2026-01-01T12:00:00"}}})
    assert caught.value.status == 422
    assert 'Invalid value: "2026-01-01T12:00:00"' in json.loads(caught.value.body)["message"]
    core.create_namespaced_config_map(ns, {"metadata": {
        "name": "labels", "labels": {"kvstorage.io/run-id": "r-20260101-120000"}}})
    with pytest.raises(ApiException) as caught:
        core.patch_namespaced_config_map("labels", ns, {"metadata": {"labels": {"bad key": "v"}}})
    assert "name part must consist of" in json.loads(caught.value.body)["message"]
