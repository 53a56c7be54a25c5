"""Deletion semantics through the client: finalizers, background and foreground garbage
collection, namespace termination, deletecollection, and Events."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException


@pytest.fixture
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture
def ns(core: client.CoreV1Api, unique_name: Callable[[str], str]) -> str:
    name = unique_name("life")
    core.create_namespace({"metadata": {"name": name}})
    return name


def _owned(core: client.CoreV1Api, ns: str, owner: str, name: str) -> None:
    uid = core.read_namespaced_config_map(owner, ns).metadata.uid
    core.create_namespaced_config_map(ns, {"metadata": {"name": name, "ownerReferences": [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": owner, "uid": uid}]}})


def _names(core: client.CoreV1Api, ns: str) -> list[str]:
    return [i.metadata.name for i in core.list_namespaced_config_map(ns).items]


def test_finalizer_holds_the_object_until_removed(core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, {"metadata": {"name": "held",
                                                        "finalizers": ["lab.test/x"]}})
    core.delete_namespaced_config_map("held", ns)
    held = core.read_namespaced_config_map("held", ns)
    assert held.metadata.deletion_timestamp is not None
    # A strategic merge patch treats finalizers as a set: [] changes nothing, null clears.
    core.patch_namespaced_config_map("held", ns, {"metadata": {"finalizers": []}})
    assert core.read_namespaced_config_map("held", ns).metadata.finalizers == ["lab.test/x"]
    core.patch_namespaced_config_map("held", ns, {"metadata": {"finalizers": None}})
    assert "held" not in _names(core, ns)


def test_background_deletion_collects_dependents(core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, {"metadata": {"name": "parent"}})
    _owned(core, ns, "parent", "child")
    _owned(core, ns, "child", "grandchild")
    core.delete_namespaced_config_map("parent", ns, propagation_policy="Background")
    assert _names(core, ns) == []


def test_orphan_deletion_keeps_dependents(core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, {"metadata": {"name": "parent"}})
    _owned(core, ns, "parent", "orphan")
    core.delete_namespaced_config_map(
        "parent", ns, body=client.V1DeleteOptions(propagation_policy="Orphan"))
    orphan = core.read_namespaced_config_map("orphan", ns)
    assert not orphan.metadata.owner_references


def test_foreground_deletion_waits_for_dependents(core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, {"metadata": {"name": "parent"}})
    core.create_namespaced_config_map(ns, {"metadata": {"name": "slow",
                                                        "finalizers": ["lab.test/x"]}})
    _owned(core, ns, "parent", "kid")
    uid = core.read_namespaced_config_map("parent", ns).metadata.uid
    core.patch_namespaced_config_map("slow", ns, {"metadata": {"ownerReferences": [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "parent", "uid": uid}]}})
    core.delete_namespaced_config_map("parent", ns, propagation_policy="Foreground")
    parent = core.read_namespaced_config_map("parent", ns)
    assert parent.metadata.finalizers == ["foregroundDeletion"]
    assert sorted(_names(core, ns)) == ["parent", "slow"]
    core.patch_namespaced_config_map("slow", ns, {"metadata": {"finalizers": None}})
    assert _names(core, ns) == []


def test_namespace_terminates_after_its_contents(core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, {"metadata": {"name": "blocker",
                                                        "finalizers": ["lab.test/x"]}})
    core.delete_namespace(ns)
    assert core.read_namespace(ns).status.phase == "Terminating"
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map(ns, {"metadata": {"name": "late"}})
    assert caught.value.status == 403
    assert "being terminated" in caught.value.body
    core.patch_namespaced_config_map("blocker", ns, {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as gone:
        core.read_namespace(ns)
    assert gone.value.status == 404


def test_delete_collection_by_label(core: client.CoreV1Api, ns: str) -> None:
    for name, keep in (("a", "no"), ("b", "no"), ("c", "yes")):
        core.create_namespaced_config_map(ns, {"metadata": {"name": name,
                                                            "labels": {"keep": keep}}})
    core.delete_collection_namespaced_config_map(ns, label_selector="keep=no")
    assert _names(core, ns) == ["c"]


def test_stale_delete_precondition_is_a_conflict(core: client.CoreV1Api, ns: str) -> None:
    made = core.create_namespaced_config_map(ns, {"metadata": {"name": "pre"}})
    core.patch_namespaced_config_map("pre", ns, {"data": {"x": "y"}})
    with pytest.raises(ApiException) as caught:
        core.delete_namespaced_config_map("pre", ns, body=client.V1DeleteOptions(
            preconditions=client.V1Preconditions(
                resource_version=made.metadata.resource_version)))
    assert caught.value.status == 409


def test_events_list_and_watch(core: client.CoreV1Api, ns: str) -> None:
    start = core.list_namespaced_event(ns).metadata.resource_version
    involved = core.create_namespaced_config_map(ns, {"metadata": {"name": "subject"}})
    core.create_namespaced_event(ns, {
        "metadata": {"name": "subject.1"}, "reason": "Tested", "message": "hello",
        "type": "Normal", "involvedObject": {"kind": "ConfigMap", "name": "subject",
                                             "namespace": ns,
                                             "uid": involved.metadata.uid}})
    listed = core.list_namespaced_event(
        ns, field_selector=f"involvedObject.uid={involved.metadata.uid},reason=Tested")
    assert [e.message for e in listed.items] == ["hello"]
    watcher, seen = watch.Watch(), []
    for ev in watcher.stream(core.list_namespaced_event, ns, resource_version=start,
                             timeout_seconds=5):
        seen.append((ev["type"], ev["object"].reason))
        watcher.stop()
    assert seen == [("ADDED", "Tested")]
