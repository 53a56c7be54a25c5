"""The lab's object store: what etcd plus the generic registry give a real API server.

It owns resourceVersions (one global counter, like etcd's revision), uid, generation,
creationTimestamp, finalizers and deletionTimestamp, the watch history that lets a
client resume (and get 410 Gone when it is too old), and admission hooks that the
controllers register for defaulting and webhook-style refusals. Garbage collection and
namespace termination live in `gc.py` and are driven from here.

Everything runs on the lab's event loop; no method blocks, none is thread-safe.
Objects go in and come out as deep copies, so nobody can mutate the store by accident.
"""

from __future__ import annotations

import builtins
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from . import errors, gc
from .clock import now_rfc3339
from .resources import ResourceRegistry, ResourceType
from .selectors import field_selector, label_selector
from .watchbus import Watcher, WatchEvent, clone

Obj = dict[str, Any]
ResourceRef = ResourceType | str


class AdmissionHook(Protocol):
    """Called for API writes (admit=True): may default `obj` in place or raise ApiError."""

    def __call__(self, op: str, resource: ResourceType, obj: Obj, old: Obj | None) -> None: ...


def _meta(obj: Obj) -> dict[str, Any]:
    return obj.setdefault("metadata", {})


def _body_without(obj: Obj, *keys: str) -> Obj:
    return {k: v for k, v in obj.items() if k not in keys}


class Store:
    """In-memory, versioned, watchable object store with Kubernetes write semantics."""

    def __init__(self, registry: ResourceRegistry | None = None, history_size: int = 10000):
        self.registry = registry or ResourceRegistry()
        self._rv = 1
        self._objects: dict[tuple[str, str], dict[tuple[str, str], Obj]] = {}
        self._by_uid: dict[str, tuple[ResourceType, str, str]] = {}
        self._history: deque[WatchEvent] = deque(maxlen=history_size)
        self._watchers: set[Watcher] = set()
        self.admission: list[AdmissionHook] = []
        self.on_removed: list[Callable[[ResourceType, Obj], None]] = []
        # Called synchronously with every change (e.g. RBAC cache invalidation).
        self.listeners: list[Callable[[WatchEvent], None]] = []

    # ------------------------------------------------------------------ reads
    def resource(self, ref: ResourceRef) -> ResourceType:
        return self.registry.resolve(ref)

    def current_rv(self) -> str:
        return str(self._rv)

    def get(self, ref: ResourceRef, namespace: str | None, name: str, *,
            copies: bool = True) -> Obj:
        """The stored object; `copies=False` returns the stored dict itself, for callers
        that only serialise it at once and never keep or change it (the HTTP layer)."""
        resource = self.resource(ref)
        obj = self._bucket(resource).get(self._key(resource, namespace, name))
        if obj is None:
            raise errors.not_found(resource.plural, name, resource.group)
        return clone(obj) if copies else obj

    def try_get(self, ref: ResourceRef, namespace: str | None, name: str) -> Obj | None:
        try:
            return self.get(ref, namespace, name)
        except errors.ApiError:
            return None

    def get_by_uid(self, uid: str) -> tuple[ResourceType, Obj] | None:
        found = self._by_uid.get(uid)
        if not found:
            return None
        resource, namespace, name = found
        obj = self.try_get(resource, namespace or None, name)
        return (resource, obj) if obj else None

    def list(
        self,
        ref: ResourceRef,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        predicate: Callable[[Obj], bool] | None = None,
        copies: bool = True,
    ) -> tuple[list[Obj], str]:
        """Matching objects sorted by namespace/name, and the list's resourceVersion
        (`copies=False`: the stored dicts themselves, as for `get`)."""
        resource = self.resource(ref)
        match = self._matcher(label_selector, field_selector, predicate)
        items = [
            clone(obj) if copies else obj
            for (ns, _), obj in sorted(self._bucket(resource).items())
            if (not namespace or ns == namespace) and match(obj)
        ]
        return items, self.current_rv()

    def all_objects(self) -> builtins.list[tuple[ResourceType, Obj]]:
        """Every stored object with its type (for GC and namespace sweeps)."""
        out: builtins.list[tuple[ResourceType, Obj]] = []
        for (group, plural), bucket in self._objects.items():
            resource = self.registry.get(group, plural)
            if resource:
                out.extend((resource, obj) for obj in bucket.values())
        return out

    # ----------------------------------------------------------------- writes
    def create(self, ref: ResourceRef, obj: Obj, *, admit: bool = False,
               dry_run: bool = False) -> Obj:
        resource = self.resource(ref)
        obj = clone(obj)
        meta = _meta(obj)
        obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
        self._assign_name(resource, meta)
        if not resource.namespaced:
            meta.pop("namespace", None)
        elif not meta.get("namespace"):
            raise errors.bad_request("the namespace of the object must be set")
        else:
            self._check_namespace_open(meta["namespace"])
        key = self._key(resource, meta.get("namespace"), meta["name"])
        if key in self._bucket(resource):
            raise errors.already_exists(resource.plural, meta["name"], resource.group)
        if admit:
            self._admit("CREATE", resource, obj, None)
        for field in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion"):
            meta.pop(field, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        meta["generation"] = 1
        if dry_run:
            return obj
        self._store(resource, key, obj, "ADDED")
        return clone(obj)

    def update(self, ref: ResourceRef, obj: Obj, *, subresource: str | None = None,
               admit: bool = False, dry_run: bool = False) -> Obj:
        """PUT semantics. subresource 'status' writes only status; None only the rest;
        'all' (internal callers only) writes both at once."""
        resource = self.resource(ref)
        meta = obj.get("metadata") or {}
        name, namespace = meta.get("name", ""), meta.get("namespace")
        key = self._key(resource, namespace, name)
        old = self._bucket(resource).get(key)
        if old is None:
            raise errors.not_found(resource.plural, name, resource.group)
        sent_rv = meta.get("resourceVersion")
        if sent_rv and str(sent_rv) != old["metadata"]["resourceVersion"]:
            raise errors.conflict(resource.plural, name, resource.group)
        new = self._merge_update(resource, old, clone(obj), subresource)
        if admit:
            self._admit("UPDATE", resource, new, clone(old))
        if _body_without(new, "metadata", "status") != _body_without(old, "metadata", "status"):
            new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        if new == old or dry_run:
            return clone(new)
        if self._finalized(new):
            return self._remove(resource, key, new)
        self._store(resource, key, new, "MODIFIED")
        return clone(new)

    def mutate(self, ref: ResourceRef, namespace: str | None, name: str,
               change: Callable[[Obj], Any], *, subresource: str | None = "all") -> Obj:
        """Read-modify-write for controllers: `change` edits the object in place."""
        obj = self.get(ref, namespace, name)
        change(obj)
        obj["metadata"].pop("resourceVersion", None)
        return self.update(ref, obj, subresource=subresource)

    def delete(self, ref: ResourceRef, namespace: str | None, name: str, *,
               propagation: str | None = None, preconditions: dict[str, str] | None = None,
               admit: bool = False, dry_run: bool = False) -> tuple[Obj, bool]:
        """Returns (object, removed): removed is False while finalizers hold it."""
        resource = self.resource(ref)
        key = self._key(resource, namespace, name)
        old = self._bucket(resource).get(key)
        if old is None:
            raise errors.not_found(resource.plural, name, resource.group)
        self._check_preconditions(resource, old, preconditions or {})
        if admit:
            self._admit("DELETE", resource, clone(old), clone(old))
        if dry_run:
            return clone(old), False
        obj, removed = gc.delete(self, resource, clone(old), propagation or "Background")
        return clone(obj), removed

    # ------------------------------------------------------------------ watch
    def watch(self, ref: ResourceRef, namespace: str | None = None, *,
              resource_version: str | None = None, label_selector: str | None = None,
              field_selector: str | None = None,
              predicate: Callable[[Obj], bool] | None = None) -> Watcher:
        """Events after `resource_version`; with none (or "0"), the current objects
        first as ADDED. Raises 410 Expired when that version left the history."""
        resource = self.resource(ref)
        match = self._matcher(label_selector, field_selector, predicate)
        watcher = Watcher(resource, namespace, match, self._watchers.discard)
        if resource_version in (None, "", "0"):
            # push() copies each event, so the stored dicts need no copy here.
            for obj in self.list(resource, namespace, predicate=match, copies=False)[0]:
                watcher.push(WatchEvent("ADDED", obj, self._rv, resource))
        else:
            for event in self._replay(int(resource_version)):
                if watcher.wants(event):
                    watcher.push(event)
        self._watchers.add(watcher)
        return watcher

    def compact(self, resource_version: int) -> None:
        """Forget watch history up to and including `resource_version`, as etcd's
        compaction does: watches from older versions then get 410 Expired."""
        while self._history and self._history[0].resource_version <= resource_version:
            self._history.popleft()

    def _replay(self, since: int) -> builtins.list[WatchEvent]:
        oldest = self._history[0].resource_version if self._history else self._rv + 1
        if since < oldest - 1 and since < self._rv:
            raise errors.gone(f"too old resource version: {since} ({oldest - 1})")
        return [e for e in self._history if e.resource_version > since]

    # --------------------------------------------------------------- internals
    def _bucket(self, resource: ResourceType) -> dict[tuple[str, str], Obj]:
        return self._objects.setdefault(resource.key, {})

    @staticmethod
    def _key(resource: ResourceType, namespace: str | None, name: str) -> tuple[str, str]:
        return ((namespace or "") if resource.namespaced else "", name)

    def _matcher(self, labels: str | None, fields: str | None,
                 predicate: Callable[[Obj], bool] | None) -> Callable[[Obj], bool]:
        by_label, by_field = label_selector(labels), field_selector(fields)
        extra = predicate or (lambda obj: True)
        return lambda obj: by_label(obj) and by_field(obj) and extra(obj)

    def _assign_name(self, resource: ResourceType, meta: dict[str, Any]) -> None:
        if not meta.get("name"):
            prefix = meta.get("generateName")
            if not prefix:
                raise errors.invalid(resource.kind, "", [{
                    "reason": "FieldValueRequired", "field": "metadata.name",
                    "message": "name or generateName is required"}], resource.group)
            meta["name"] = prefix + uuid.uuid4().hex[:5]

    def _check_namespace_open(self, namespace: str) -> None:
        ns = self._bucket(self.resource("namespaces")).get(("", namespace))
        if ns is None:
            raise errors.not_found("namespaces", namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.forbidden(
                f"unable to create new content in namespace {namespace} because it is being "
                "terminated", "namespaces", namespace)

    def _admit(self, op: str, resource: ResourceType, obj: Obj, old: Obj | None) -> None:
        for hook in self.admission:
            hook(op, resource, obj, old)

    def _merge_update(self, resource: ResourceType, old: Obj, new: Obj,
                      subresource: str | None) -> Obj:
        if subresource == "status":
            merged = clone(old)
            merged["status"] = new.get("status", {})
            return merged
        if subresource is None and resource.has_status():
            new["status"] = clone(old.get("status", {}))
            if not new["status"] and "status" not in old:
                new.pop("status")
        meta, old_meta = _meta(new), old["metadata"]
        for field in ("uid", "creationTimestamp", "namespace", "name", "generation",
                      "deletionTimestamp", "deletionGracePeriodSeconds"):
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
        meta["resourceVersion"] = old_meta["resourceVersion"]
        new["apiVersion"], new["kind"] = resource.api_version, resource.kind
        return new

    @staticmethod
    def _finalized(obj: Obj) -> bool:
        meta = obj["metadata"]
        return bool(meta.get("deletionTimestamp")) and not meta.get("finalizers")

    def _check_preconditions(self, resource: ResourceType, old: Obj,
                             preconditions: dict[str, str]) -> None:
        meta = old["metadata"]
        for field, actual in (("uid", meta["uid"]),
                              ("resourceVersion", meta["resourceVersion"])):
            wanted = preconditions.get(field)
            if wanted and wanted != actual:
                raise errors.ApiError(
                    409, "Conflict",
                    f"Precondition failed: {field}: {wanted}, {field} in object meta: {actual}",
                    {"name": meta["name"], "kind": resource.plural})

    # ------------------------------------------------- garbage collection's seam (gc.py)
    def store_marked(self, resource: ResourceType, obj: Obj) -> None:
        """Store `obj` as deletion marked it (deletionTimestamp, a foreground finalizer, a
        namespace's Terminating phase): no admission, merge or precondition, as the API
        server's own write; emits MODIFIED."""
        meta = obj["metadata"]
        self._store(resource, self._key(resource, meta.get("namespace"), meta["name"]), obj,
                    "MODIFIED")

    def remove_now(self, resource: ResourceType, obj: Obj) -> Obj:
        """Drop `obj` for good (nothing holds it any more): emits DELETED, then the
        `on_removed` callbacks and garbage collection run; returns the last state."""
        meta = obj["metadata"]
        return self._remove(resource, self._key(resource, meta.get("namespace"), meta["name"]),
                            obj)

    # ------------------------------------------------------------------ internals
    def _next_rv(self) -> int:
        self._rv += 1
        return self._rv

    def _store(self, resource: ResourceType, key: tuple[str, str], obj: Obj,
               event_type: str) -> None:
        rv = self._next_rv()
        obj["metadata"]["resourceVersion"] = str(rv)
        self._bucket(resource)[key] = obj
        self._by_uid[obj["metadata"]["uid"]] = (resource, key[0], key[1])
        self._emit(WatchEvent(event_type, obj, rv, resource))

    def _remove(self, resource: ResourceType, key: tuple[str, str], obj: Obj) -> Obj:
        """Drop the object for good, emit DELETED, then let GC react."""
        self._bucket(resource).pop(key, None)
        self._by_uid.pop(obj["metadata"]["uid"], None)
        rv = self._next_rv()
        obj["metadata"]["resourceVersion"] = str(rv)
        self._emit(WatchEvent("DELETED", obj, rv, resource))
        for callback in self.on_removed:
            callback(resource, clone(obj))
        gc.after_removal(self, resource, obj)
        return clone(obj)

    def _emit(self, event: WatchEvent) -> None:
        frozen = WatchEvent(event.type, clone(event.object), event.resource_version,
                            event.resource)
        self._history.append(frozen)
        for listener in self.listeners:
            listener(frozen)
        for watcher in list(self._watchers):
            if watcher.wants(frozen):
                watcher.push(frozen)
