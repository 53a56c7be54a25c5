"""``Kube``: the one way the suite talks to a cluster (docs/internals.md, check framework).

Objects are plain dicts addressed by ``(api_version, kind)``. Every object the suite
creates carries the run label and gets its cleanup registered at once (LIFO), so any
exit path can undo the run. Transient failures are retried (see ``retry.py``); waits
list then watch with one deadline (see ``waits.py``).
"""

from __future__ import annotations

import builtins
import copy
import threading
from typing import Any

from kubernetes.client import ApiClient

from suite.cluster.cleanup import CleanupStack
from suite.cluster.errors import Cancelled, NotFound
from suite.cluster.transport import Resource, Stats, Transport
from suite.cluster.waits import Predicate, run_wait

RUN_LABEL = "kvstorage.io/run-id"
MERGE_PATCH = "application/merge-patch+json"


class Kube:
    """Cluster access for one run (and, through :meth:`scoped`, for one StorageClass)."""

    def __init__(self, transport: Transport, run_id: str, namespace: str | None = None,
                 cleanup: CleanupStack | None = None, delete_timeout_s: float = 180.0,
                 cancel: threading.Event | None = None):
        self.transport = transport
        self.run_id = run_id
        self.namespace = namespace
        self.cleanup = cleanup if cleanup is not None else CleanupStack()
        self.delete_timeout_s = delete_timeout_s
        self.cancel = cancel  # set on Ctrl-C: creates and waits raise Cancelled

    @property
    def api_client(self) -> ApiClient:
        return self.transport.api_client

    @property
    def stats(self) -> Stats:
        return self.transport.stats

    def scoped(self, namespace: str | None = None, cleanup: CleanupStack | None = None,
               cancel: threading.Event | None = None) -> Kube:
        """A Kube sharing this one's connection, with its own default namespace / cleanups."""
        return Kube(self.transport, self.run_id, namespace or self.namespace,
                    cleanup if cleanup is not None else self.cleanup, self.delete_timeout_s,
                    cancel if cancel is not None else self.cancel)

    def resource(self, api_version: str, kind: str) -> Resource:
        return self.transport.resource(api_version, kind)

    def _ns(self, resource: Resource, namespace: str | None) -> str | None:
        return (namespace or self.namespace) if resource.namespaced else None

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create ``obj`` labelled with the run id; its deletion joins the cleanup stack."""
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled(f"run interrupted: not creating {obj.get('kind')}")
        body = copy.deepcopy(obj)
        meta = body.setdefault("metadata", {})
        meta.setdefault("labels", {})[RUN_LABEL] = self.run_id
        resource = self.resource(body["apiVersion"], body["kind"])
        namespace = self._ns(resource, meta.get("namespace"))
        if namespace:
            meta["namespace"] = namespace
        created = self.transport.request("POST", resource.path(namespace), body=body)
        name = created["metadata"]["name"]
        self.cleanup.push(
            f"delete {body['kind']} {namespace + '/' if namespace else ''}{name}",
            lambda: self.delete(body["apiVersion"], body["kind"], name, namespace, wait=False))
        return created

    def get(self, api_version: str, kind: str, name: str,
            namespace: str | None = None) -> dict[str, Any]:
        resource = self.resource(api_version, kind)
        return self.transport.request("GET", resource.path(self._ns(resource, namespace), name))

    def list(self, api_version: str, kind: str, namespace: str | None = None,
             label_selector: str | None = None) -> list[dict[str, Any]]:
        """Items of a kind; ``namespace=None`` lists across all namespaces."""
        resource = self.resource(api_version, kind)
        query = {"labelSelector": label_selector} if label_selector else {}
        ns = namespace if resource.namespaced else None
        reply = self.transport.request("GET", resource.path(ns), query=query) or {}
        return list(reply.get("items") or [])

    def patch(self, api_version: str, kind: str, name: str, patch: Any,
              namespace: str | None = None, content_type: str = MERGE_PATCH) -> dict[str, Any]:
        resource = self.resource(api_version, kind)
        path = resource.path(self._ns(resource, namespace), name)
        return self.transport.request("PATCH", path, body=patch, content_type=content_type)

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None,
               wait: bool = True) -> None:
        """Delete (background propagation); a missing object is already deleted."""
        resource = self.resource(api_version, kind)
        ns = self._ns(resource, namespace)
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        try:
            self.transport.request("DELETE", resource.path(ns, name), body=body)
        except NotFound:
            return
        if wait:
            run_wait(self.transport, resource, name, ns, None, self.delete_timeout_s,
                     f"{kind} {name} to be deleted", self.cancel)

    def wait_for(self, api_version: str, kind: str, name: str, predicate: Predicate,
                 timeout_s: float, what: str, namespace: str | None = None) -> dict[str, Any]:
        """Block until ``predicate(obj)`` is True; a string from it fails the wait at once.

        Raises ``WaitTimeout`` (with ``.last``) or ``WaitFailed`` (with ``.reason``).
        """
        resource = self.resource(api_version, kind)
        found = run_wait(self.transport, resource, name, self._ns(resource, namespace),
                         predicate, timeout_s, what, self.cancel)
        assert found is not None  # a predicate wait only ends on an existing object
        return found

    def events_for(self, obj: dict[str, Any]) -> builtins.list[dict[str, Any]]:
        """The Events about ``obj``, oldest first (evidence for reasons)."""
        meta = obj.get("metadata") or {}
        query = {"fieldSelector": f"involvedObject.name={meta.get('name')}"}
        path = Resource("v1", "Event", "events", True).path(meta.get("namespace"))
        reply = self.transport.request("GET", path, query=query) or {}
        items = [e for e in reply.get("items") or []
                 if (e.get("involvedObject") or {}).get("kind") in (None, obj.get("kind"))]
        return sorted(items, key=_event_time)

    def subresource(self, api_version: str, kind: str, name: str, sub: str,
                    method: str = "PUT", body: Any = None,
                    namespace: str | None = None) -> Any:
        """Call a subresource, e.g. ``("kubevirt.io/v1", "VirtualMachine", vm, "start")``.

        KubeVirt serves its verbs from the ``subresources.kubevirt.io`` group.
        """
        resource = self.resource(api_version, kind)
        group, _, version = api_version.rpartition("/")
        if group == "kubevirt.io":
            resource = Resource(f"subresources.kubevirt.io/{version}", kind, resource.plural,
                                resource.namespaced)
        path = resource.path(self._ns(resource, namespace), name, sub)
        return self.transport.request(method, path, body=body if body is not None else {})


def _event_time(event: dict[str, Any]) -> str:
    return str(event.get("lastTimestamp") or event.get("eventTime")
               or (event.get("metadata") or {}).get("creationTimestamp") or "")
