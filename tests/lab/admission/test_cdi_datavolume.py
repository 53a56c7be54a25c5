"""CDI's DataVolume webhook in the lab (containerized-data-importer
pkg/apiserver/webhooks/datavolume-validate.go): 422 with no reason, each message after a
space, as CDI builds it."""

from __future__ import annotations

from typing import Any

import kubernetes
import pytest
from admhelpers import CDI, datavolume, refusal, storage

WEBHOOK = 'admission webhook "datavolume-validate.cdi.kubevirt.io" denied the request: '


def _custom(api_client: Any) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(api_client)


def _refused(api_client: Any, ns: str, body: dict[str, Any], dry_run: str | None = "All",
             ) -> dict[str, Any]:
    code, status = refusal(lambda: _custom(api_client).create_namespaced_custom_object(
        *CDI, ns, "datavolumes", body, dry_run=dry_run))
    assert code == 422
    assert "reason" not in status  # CDI's Status carries none; the API server keeps it so
    return status


def _assert_one(status: dict[str, Any], message: str, field: str) -> None:
    assert status["message"] == WEBHOOK + " " + message
    assert [(c["message"], c.get("field")) for c in status["details"]["causes"]] == [
        (message, field)]


def test_a_valid_datavolume_is_admitted(api_client: Any, ns: str) -> None:
    _custom(api_client).create_namespaced_custom_object(
        *CDI, ns, "datavolumes", datavolume("ok", {"source": {"blank": {}},
                                                   "storage": storage()}), dry_run="All")


def test_storage_or_pvc_is_required(api_client: Any, ns: str) -> None:
    status = _refused(api_client, ns, datavolume("none", {"source": {"blank": {}}}))
    _assert_one(status, "Missing Data volume PVC", "spec.PVC")


def test_not_both_storage_and_pvc(api_client: Any, ns: str) -> None:
    body = datavolume("both", {"source": {"blank": {}}, "storage": storage(),
                               "pvc": storage()})
    _assert_one(_refused(api_client, ns, body), "Duplicate storage definition, both target "
                "storage and target pvc defined", "spec.PVC.Storage")


@pytest.mark.parametrize(("size", "message"), [
    ("0", "Storage size can't be equal or less than zero"),
    ("512Ki", "Storage size should be at least 1MiB"),
])
def test_size_rules(api_client: Any, ns: str, size: str, message: str) -> None:
    body = datavolume("small", {"source": {"blank": {}}, "storage": storage(size)})
    _assert_one(_refused(api_client, ns, body), message,
                "spec.Storage.resources.requests.size")


def test_size_may_be_left_out_only_for_storage_clones(api_client: Any, ns: str) -> None:
    target = {"storageClassName": "lab-slow", "accessModes": ["ReadWriteOnce"]}
    blank = datavolume("sizeless", {"source": {"blank": {}}, "storage": dict(target)})
    _assert_one(_refused(api_client, ns, blank), "Storage size is missing",
                "spec.Storage.resources.requests.size")
    pvc = datavolume("sizeless", {"source": {"pvc": {"namespace": ns, "name": "src"}},
                                  "pvc": dict(target)})
    _assert_one(_refused(api_client, ns, pvc), "PVC size is missing",
                "spec.PVC.resources.requests.size")
    clone = datavolume("sizeless", {"source": {"pvc": {"namespace": ns, "name": "src"}},
                                    "storage": dict(target)})
    _custom(api_client).create_namespaced_custom_object(*CDI, ns, "datavolumes", clone,
                                                        dry_run="All")


def test_pvc_takes_exactly_one_access_mode(api_client: Any, ns: str) -> None:
    two = storage()
    two["accessModes"] = ["ReadWriteOnce", "ReadWriteMany"]
    body = datavolume("modes", {"source": {"blank": {}}, "pvc": two})
    _assert_one(_refused(api_client, ns, body), "PVC multiple accessModes",
                "spec.PVC.accessModes")


def test_exactly_one_source(api_client: Any, ns: str) -> None:
    body = datavolume("two", {"source": {"blank": {}, "http": {"url": "http://x/y.img"}},
                              "storage": storage()})
    _assert_one(_refused(api_client, ns, body), "Multiple Data volume sources", "spec.source")
    body = datavolume("zero", {"source": {}, "storage": storage()})
    _assert_one(_refused(api_client, ns, body), "Missing Data volume source", "spec.source")
    body = datavolume("nothing", {"storage": storage()})
    _assert_one(_refused(api_client, ns, body), "Data volume should have either Source or "
                "SourceRef, or be externally populated", "spec.source")


def test_a_clone_source_names_namespace_and_name(api_client: Any, ns: str) -> None:
    body = datavolume("clone", {"source": {"pvc": {"namespace": "", "name": "src"}},
                                "storage": storage()})  # the schema wants the key
    _assert_one(_refused(api_client, ns, body), "spec.source.PVC source PVC is not valid",
                "spec.source.PVC")


def test_another_claim_of_that_name(api_client: Any, ns: str) -> None:
    core = kubernetes.client.CoreV1Api(api_client)
    core.create_namespaced_persistent_volume_claim(ns, {
        "metadata": {"name": "taken"}, "spec": storage()})
    body = datavolume("taken", {"source": {"blank": {}}, "storage": storage()})
    status = _refused(api_client, ns, body)
    assert status["message"] == WEBHOOK + f" Destination PVC {ns}/taken already exists"
    assert status["details"]["causes"][0]["reason"] == "FieldValueDuplicate"


def test_the_spec_is_immutable(api_client: Any, ns: str) -> None:
    _custom(api_client).create_namespaced_custom_object(
        *CDI, ns, "datavolumes", datavolume("fixed", {"source": {"blank": {}},
                                                      "storage": storage()}))
    code, status = refusal(lambda: _custom(api_client).patch_namespaced_custom_object(
        *CDI, ns, "datavolumes", "fixed",
        {"spec": {"storage": {"resources": {"requests": {"storage": "128Mi"}}}}}))
    assert code == 422
    assert status["message"] == WEBHOOK + " Cannot update DataVolume Spec"
    labelled = _custom(api_client).patch_namespaced_custom_object(
        *CDI, ns, "datavolumes", "fixed", {"metadata": {"labels": {"a": "b"}}})
    assert labelled["metadata"]["labels"]["a"] == "b"
