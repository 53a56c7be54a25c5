"""The object store's Kubernetes semantics, exercised directly (pure logic, no HTTP)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from suite.lab.errors import ApiError
from suite.lab.store import Store


@pytest.fixture
def store() -> Store:
    s = Store()
    s.create("namespaces", {"metadata": {"name": "ns1"}})
    return s


def _cm(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns1", "labels": labels}, "data": {"k": "v"}}


def _owned(name: str, owner: dict[str, Any]) -> dict[str, Any]:
    ref = {"apiVersion": owner["apiVersion"], "kind": owner["kind"],
           "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"]}
    return {"metadata": {"name": name, "namespace": "ns1", "ownerReferences": [ref]}}


def _held(obj: dict[str, Any], finalizer: str = "example.com/hold") -> dict[str, Any]:
    obj["metadata"]["finalizers"] = [finalizer]
    return obj


def _release(store: Store, plural: str, obj: dict[str, Any]) -> None:
    """Clear the finalizers, as the controller that owns them would once done."""
    obj["metadata"]["finalizers"] = []
    store.update(plural, obj)


def test_create_assigns_identity_and_rejects_duplicates(store: Store) -> None:
    created = store.create("configmaps", _cm("a"))
    meta = created["metadata"]
    assert meta["uid"] and meta["creationTimestamp"] and meta["generation"] == 1
    assert created["apiVersion"] == "v1" and created["kind"] == "ConfigMap"
    with pytest.raises(ApiError) as err:
        store.create("configmaps", _cm("a"))
    assert err.value.code == 409 and err.value.reason == "AlreadyExists"


def test_generate_name_and_missing_namespace(store: Store) -> None:
    obj = store.create("configmaps", {"metadata": {"generateName": "x-", "namespace": "ns1"}})
    assert obj["metadata"]["name"].startswith("x-") and len(obj["metadata"]["name"]) == 7
    with pytest.raises(ApiError) as err:
        store.create("configmaps", {"metadata": {"name": "y", "namespace": "nope"}})
    assert err.value.code == 404


def test_stale_update_conflicts_and_resource_version_is_monotonic(store: Store) -> None:
    first = store.create("configmaps", _cm("a"))
    second = store.update("configmaps", {**first, "data": {"k": "w"}})
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    with pytest.raises(ApiError) as err:
        store.update("configmaps", {**first, "data": {"k": "z"}})
    assert err.value.code == 409 and err.value.reason == "Conflict"


def test_status_subresource_separates_spec_and_status(store: Store) -> None:
    pvc = store.create("persistentvolumeclaims", {
        "metadata": {"name": "p", "namespace": "ns1"}, "spec": {"volumeName": ""}})
    pvc["status"] = {"phase": "Bound"}
    pvc["spec"] = {"volumeName": "changed"}
    after = store.update("persistentvolumeclaims", pvc, subresource="status")
    assert after["status"]["phase"] == "Bound" and after["spec"]["volumeName"] == ""
    assert after["metadata"]["generation"] == 1
    after["spec"] = {"volumeName": "pv-1"}
    after["status"] = {"phase": "Lost"}
    final = store.update("persistentvolumeclaims", after)
    assert final["status"]["phase"] == "Bound" and final["spec"]["volumeName"] == "pv-1"
    assert final["metadata"]["generation"] == 2


def test_selectors(store: Store) -> None:
    store.create("configmaps", _cm("a", tier="gold", env="prod"))
    store.create("configmaps", _cm("b", tier="silver"))
    store.create("configmaps", _cm("c"))

    def names(**kw: str) -> list[str]:
        return [o["metadata"]["name"] for o in store.list("configmaps", "ns1", **kw)[0]]

    assert names(label_selector="tier in (gold,silver)") == ["a", "b"]
    assert names(label_selector="tier notin (gold)") == ["b", "c"]
    assert names(label_selector="!tier") == ["c"]
    assert names(label_selector="tier,env=prod") == ["a"]
    assert names(field_selector="metadata.name!=a") == ["b", "c"]
    with pytest.raises(ApiError):
        names(label_selector="tier in gold")


def test_finalizers_hold_deletion_until_removed(store: Store) -> None:
    store.create("configmaps", _held(_cm("a")))
    held, removed = store.delete("configmaps", "ns1", "a")
    assert not removed and held["metadata"]["deletionTimestamp"]
    _release(store, "configmaps", held)
    assert store.try_get("configmaps", "ns1", "a") is None


def test_background_and_foreground_gc(store: Store) -> None:
    owner = store.create("configmaps", _cm("owner"))
    store.create("secrets", _owned("dep", owner))
    _, removed = store.delete("configmaps", "ns1", "owner")
    assert removed and store.try_get("secrets", "ns1", "dep") is None

    owner = store.create("configmaps", _cm("owner2"))
    store.create("secrets", _held(_owned("dep2", owner), "example.com/slow"))
    held, removed = store.delete("configmaps", "ns1", "owner2", propagation="Foreground")
    assert not removed and "foregroundDeletion" in held["metadata"]["finalizers"]
    dep_now = store.get("secrets", "ns1", "dep2")
    assert dep_now["metadata"]["deletionTimestamp"]
    _release(store, "secrets", dep_now)
    assert store.try_get("configmaps", "ns1", "owner2") is None


def test_orphan_propagation_keeps_dependents(store: Store) -> None:
    owner = store.create("configmaps", _cm("owner"))
    store.create("secrets", _owned("dep", owner))
    store.delete("configmaps", "ns1", "owner", propagation="Orphan")
    assert store.get("secrets", "ns1", "dep")["metadata"]["ownerReferences"] == []


def test_namespace_terminates_after_its_contents(store: Store) -> None:
    store.create("configmaps", _held(_cm("held")))
    store.create("configmaps", _cm("free"))
    store.delete("namespaces", None, "ns1")
    ns = store.get("namespaces", None, "ns1")
    assert ns["status"]["phase"] == "Terminating"
    assert store.try_get("configmaps", "ns1", "free") is None
    with pytest.raises(ApiError) as err:
        store.create("configmaps", _cm("late"))
    assert err.value.code == 403
    _release(store, "configmaps", store.get("configmaps", "ns1", "held"))
    assert store.try_get("namespaces", None, "ns1") is None


def test_watch_resume_and_gone() -> None:
    async def scenario() -> None:
        store = Store(history_size=5)
        store.create("namespaces", {"metadata": {"name": "ns1"}})
        start = store.current_rv()
        for i in range(3):
            store.create("configmaps", _cm(f"c{i}"))
        watcher = store.watch("configmaps", "ns1", resource_version=start)
        seen = [(await watcher.next(1)).object["metadata"]["name"] for _ in range(3)]
        assert seen == ["c0", "c1", "c2"]
        for i in range(3, 10):
            store.create("configmaps", _cm(f"c{i}"))
        with pytest.raises(ApiError) as err:
            store.watch("configmaps", "ns1", resource_version=start)
        assert err.value.code == 410
        initial = store.watch("configmaps", "ns1", label_selector="missing")
        assert await initial.next(0.05) is None
        watcher.close()

    asyncio.run(scenario())
