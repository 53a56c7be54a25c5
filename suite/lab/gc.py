"""Deletion, garbage collection and namespace termination, as the API server and
kube-controller-manager do them.

- An object with finalizers only gets a deletionTimestamp; it goes when they are gone.
- Background propagation removes the owner now and its dependents right after.
- Foreground propagation holds the owner (finalizer `foregroundDeletion`) until every
  dependent is gone.
- Orphan propagation strips the ownerReference from dependents.
- A namespace turns Terminating, its contents are deleted, and it goes when empty.

These run synchronously on the store's loop: a lab has hundreds of objects, not millions.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from .clock import now_rfc3339
from .errors import ApiError
from .resources import ResourceType

if TYPE_CHECKING:
    from .store import Obj, Store

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
NAMESPACE_FINALIZER = "kubernetes"


def delete(store: Store, resource: ResourceType, obj: Obj,
           propagation: str) -> tuple[Obj, bool]:
    """Start deleting `obj`; returns (object as now stored or last seen, removed)."""
    meta = obj["metadata"]
    if resource.kind == "Namespace":
        return _terminate_namespace(store, resource, obj), False
    if meta.get("deletionTimestamp"):
        return obj, False
    if propagation == "Orphan":
        _orphan_dependents(store, meta["uid"])
    elif propagation == "Foreground" and _dependents(store, meta["uid"]):
        meta.setdefault("finalizers", []).append(FOREGROUND)
    if meta.get("finalizers"):
        _mark_deleting(meta)
        store.store_marked(resource, obj)
        if FOREGROUND in meta["finalizers"]:
            for dep_resource, dep in _dependents(store, meta["uid"]):
                _delete_quietly(store, dep_resource, dep, "Foreground")
        return obj, False
    return store.remove_now(resource, obj), True


def _mark_deleting(meta: dict[str, Any]) -> None:
    meta["deletionTimestamp"] = now_rfc3339()
    meta["deletionGracePeriodSeconds"] = 0


def after_removal(store: Store, resource: ResourceType, obj: Obj) -> None:
    """React to an object being gone: collect dependents, release owners, finish namespaces."""
    uid = obj["metadata"]["uid"]
    for dep_resource, dep in _dependents(store, uid):
        _delete_quietly(store, dep_resource, dep, "Background")
    for ref in obj["metadata"].get("ownerReferences") or []:
        _maybe_release_foreground_owner(store, ref.get("uid", ""))
    namespace = obj["metadata"].get("namespace")
    if namespace and resource.namespaced:
        _maybe_finish_namespace(store, namespace)


def _dependents(store: Store, uid: str) -> list[tuple[ResourceType, Obj]]:
    return [
        (resource, obj) for resource, obj in store.all_objects()
        if any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or [])
    ]


def _delete_quietly(store: Store, resource: ResourceType, obj: Obj, propagation: str) -> None:
    meta = obj["metadata"]
    # Already gone is fine: another path of the cascade got there first.
    with contextlib.suppress(ApiError):
        store.delete(resource, meta.get("namespace"), meta["name"], propagation=propagation)


def _orphan_dependents(store: Store, uid: str) -> None:
    for resource, dep in _dependents(store, uid):
        meta = dep["metadata"]

        def strip(o: dict[str, Any]) -> None:
            o["metadata"]["ownerReferences"] = [
                r for r in o["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]

        store.mutate(resource, meta.get("namespace"), meta["name"], strip)


def _maybe_release_foreground_owner(store: Store, owner_uid: str) -> None:
    found = store.get_by_uid(owner_uid)
    if not found:
        return
    resource, owner = found
    meta = owner["metadata"]
    if FOREGROUND not in (meta.get("finalizers") or []) or _dependents(store, owner_uid):
        return

    def release(o: dict[str, Any]) -> None:
        o["metadata"]["finalizers"] = [
            f for f in o["metadata"].get("finalizers") or [] if f != FOREGROUND]

    store.mutate(resource, meta.get("namespace"), meta["name"], release)


def _terminate_namespace(store: Store, resource: ResourceType, obj: Obj) -> Obj:
    meta = obj["metadata"]
    if not meta.get("deletionTimestamp"):
        _mark_deleting(meta)
        obj.setdefault("spec", {})["finalizers"] = [NAMESPACE_FINALIZER]
        obj.setdefault("status", {})["phase"] = "Terminating"
        store.store_marked(resource, obj)
    name = meta["name"]
    for content_resource, content in store.all_objects():
        if content_resource.namespaced and content["metadata"].get("namespace") == name:
            _delete_quietly(store, content_resource, content, "Background")
    _maybe_finish_namespace(store, name)
    return store.try_get(resource, None, name) or obj


def _maybe_finish_namespace(store: Store, namespace: str) -> None:
    ns_resource = store.resource("namespaces")
    ns = store.try_get(ns_resource, None, namespace)
    if not ns or not ns["metadata"].get("deletionTimestamp"):
        return
    if any(r.namespaced and o["metadata"].get("namespace") == namespace
           for r, o in store.all_objects()):
        return
    if ns["metadata"].get("finalizers"):
        return  # someone else's finalizer on the namespace object itself
    store.remove_now(ns_resource, ns)
