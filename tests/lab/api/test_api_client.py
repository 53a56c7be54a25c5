"""The official `kubernetes` client against the lab over HTTPS: typed and dynamic APIs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from kubernetes import client, dynamic
from kubernetes.client.rest import ApiException


@pytest.fixture(scope="module")
def namespace(api_client: client.ApiClient, unique_name: Callable[[str], str]) -> str:
    name = unique_name("api-client")
    client.CoreV1Api(api_client).create_namespace({"metadata": {"name": name}})
    return name


def test_typed_crud_round_trip(api_client: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api_client)
    created = core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "cfg", "labels": {"app": "x"}}, "data": {"k": "v"}})
    assert created.metadata.uid and created.metadata.resource_version
    got = core.read_namespaced_config_map("cfg", namespace)
    assert got.data == {"k": "v"}
    got.data["k"] = "w"
    replaced = core.replace_namespaced_config_map("cfg", namespace, got)
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    core.delete_namespaced_config_map("cfg", namespace)
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_config_map("cfg", namespace)
    assert caught.value.status == 404


def test_stale_update_is_a_conflict(api_client: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api_client)
    first = core.create_namespaced_config_map(namespace, {"metadata": {"name": "race"}})
    core.patch_namespaced_config_map("race", namespace, {"data": {"a": "1"}})
    first.data = {"a": "2"}
    with pytest.raises(ApiException) as caught:
        core.replace_namespaced_config_map("race", namespace, first)
    assert caught.value.status == 409
    assert '"reason":"Conflict"' in caught.value.body


def test_create_twice_is_already_exists(api_client: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespaced_secret(namespace, {"metadata": {"name": "twice"}})
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_secret(namespace, {"metadata": {"name": "twice"}})
    assert caught.value.status == 409
    assert "AlreadyExists" in caught.value.body


def test_generate_name(api_client: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api_client)
    made = core.create_namespaced_config_map(namespace, {"metadata": {"generateName": "gen-"}})
    assert made.metadata.name.startswith("gen-") and len(made.metadata.name) > 4


def test_label_and_field_selectors(api_client: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api_client)
    for name, tier in (("sel-a", "web"), ("sel-b", "db"), ("sel-c", "web")):
        core.create_namespaced_config_map(
            namespace, {"metadata": {"name": name, "labels": {"tier": tier}}})
    web = core.list_namespaced_config_map(namespace, label_selector="tier=web")
    assert sorted(i.metadata.name for i in web.items) == ["sel-a", "sel-c"]
    not_web = core.list_namespaced_config_map(namespace, label_selector="tier,tier notin (web)")
    assert [i.metadata.name for i in not_web.items] == ["sel-b"]
    by_name = core.list_config_map_for_all_namespaces(field_selector="metadata.name=sel-b")
    assert [i.metadata.namespace for i in by_name.items] == [namespace]
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_config_map(namespace, field_selector="data.k=v")
    assert caught.value.status == 400


def test_dynamic_client_custom_resource(api_client: client.ApiClient, namespace: str) -> None:
    dyn = dynamic.DynamicClient(api_client)
    dvs = dyn.resources.get(api_version="cdi.kubevirt.io/v1beta1", kind="DataVolume")
    body = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
            "metadata": {"name": "dv1", "namespace": namespace},
            "spec": {"source": {"blank": {}},
                     "storage": {"resources": {"requests": {"storage": "1Gi"}}}}}
    dvs.create(body=body, namespace=namespace)
    got = dvs.get(name="dv1", namespace=namespace)
    assert got.to_dict()["spec"]["source"] == {"blank": {}}
    assert got.metadata.generation == 1
    listed = dvs.get(namespace=namespace)
    assert [i.metadata.name for i in listed.items] == ["dv1"]


def test_status_subresource_ignores_spec(api_client: client.ApiClient, namespace: str) -> None:
    custom = client.CustomObjectsApi(api_client)
    group, version, plural = "kubevirt.io", "v1", "virtualmachines"
    custom.create_namespaced_custom_object(group, version, namespace, plural, {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
        "metadata": {"name": "vm1"}, "spec": {"runStrategy": "Halted", "template": {
            "spec": {"domain": {"devices": {}}}}}})
    via_status = custom.patch_namespaced_custom_object_status(
        group, version, namespace, plural, "vm1",
        {"spec": {"runStrategy": "Always"}, "status": {"printableStatus": "Lab-Test"}})
    assert via_status["status"]["printableStatus"] == "Lab-Test"
    assert via_status["spec"]["runStrategy"] == "Halted"
    assert via_status["metadata"]["generation"] == 1
    via_main = custom.patch_namespaced_custom_object(group, version, namespace, plural, "vm1", {
        "spec": {"template": {"metadata": {"labels": {"a": "b"}}}},
        "status": {"printableStatus": "Bogus"}})
    assert via_main["metadata"]["generation"] == 2
    assert via_main["status"].get("printableStatus") != "Bogus"


def test_create_cannot_set_status(api_client: client.ApiClient, namespace: str) -> None:
    custom = client.CustomObjectsApi(api_client)
    made = custom.create_namespaced_custom_object(
        "snapshot.storage.k8s.io", "v1", namespace, "volumesnapshots", {
            "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
            "metadata": {"name": "vs1"},
            "spec": {"source": {"persistentVolumeClaimName": "none"}},
            "status": {"readyToUse": True}})
    assert (made.get("status") or {}).get("readyToUse") is not True


def test_self_subject_access_review(api_client: client.ApiClient) -> None:
    review = client.AuthorizationV1Api(api_client).create_self_subject_access_review(
        {"spec": {"resourceAttributes": {"verb": "create", "resource": "pods"}}})
    assert review.status.allowed is True


def test_version_and_unknown_path(api_client: client.ApiClient) -> None:
    info = client.VersionApi(api_client).get_code()
    assert info.git_version.startswith("v1.31.")
    with pytest.raises(ApiException) as caught:
        client.CustomObjectsApi(api_client).list_cluster_custom_object("no.such", "v1", "x")
    assert caught.value.status == 404
