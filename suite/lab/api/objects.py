"""The generic REST handlers: list, watch, create, get, update, patch, delete.

They speak HTTP on one side and the store's API on the other, adding what the real
API server's handlers add on top of storage: body/URL consistency checks, dry runs,
field validation with warnings, DeleteOptions and list paging.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ..errors import ApiError, bad_request
from ..resources import ResourceType
from ..store import Store
from . import defaults
from .fieldselectors import check_field_selector
from .names import check_labels, check_name
from .options import Options, parse_options, read_body, read_object
from .paths import Target
from .responses import JSON, JsonCache, method_not_allowed, reply
from .watch import DEFAULT_TIMEOUT_S, WatchRequest, WatchStreams

Obj = dict[str, Any]
Validate = Callable[[ResourceType, Obj, str, Obj | None], list[str]]
Patch = Callable[[ResourceType, Obj, Any, str], Obj]
Render = Callable[[web.Request, ResourceType, Obj], Any]


def _warning_headers(warnings: list[str]) -> dict[str, str] | None:
    if not warnings:
        return None
    # One header value per warning, in the `299 - "text"` form kubectl prints.
    return {"Warning": ", ".join(f'299 - {json.dumps(w)}' for w in warnings)}


def _metadata(obj: Obj) -> dict[str, Any]:
    """obj["metadata"] as a dict (created when absent or null); 400 when not an object."""
    meta = obj.get("metadata")
    if meta is None:
        meta = obj["metadata"] = {}
    if not isinstance(meta, dict):
        raise bad_request("metadata must be an object")
    return meta


def _continue_token(rv: str, start: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"rv": rv, "start": start}).encode()).decode()


def _continue_start(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token))["start"])
    except (ValueError, KeyError, TypeError):
        raise bad_request("continue key is not valid") from None


class ObjectHandlers:
    """Handlers for one resource's collection and items."""

    def __init__(self, store: Store, watches: WatchStreams, validate: Validate, patch: Patch,
                 render: Render) -> None:
        self.store = store
        self.watches = watches
        self.validate = validate
        self.patch = patch
        self.render = render
        self.cache = JsonCache()

    # ------------------------------------------------------------ collections
    async def collection(self, request: web.Request, target: Target,
                         resource: ResourceType) -> web.StreamResponse:
        options = parse_options(request)
        if request.method == "GET":
            check_field_selector(resource, options.field_selector)
            if options.watch:
                return await self.watches.serve(request, self._watch_request(
                    target, resource, options))
            return self._list(request, target, resource, options)
        if request.method == "POST":
            return await self._create(request, target, resource, options)
        if request.method == "DELETE":
            return await self._delete_collection(request, target, resource, options)
        raise method_not_allowed()

    def _watch_request(self, target: Target, resource: ResourceType,
                       options: Options) -> WatchRequest:
        return WatchRequest(resource, target.namespace, options.resource_version,
                            options.label_selector, options.field_selector,
                            options.timeout_s or DEFAULT_TIMEOUT_S, options.bookmarks)

    def _list(self, request: web.Request, target: Target, resource: ResourceType,
              options: Options) -> web.Response:
        items, rv = self.store.list(resource, target.namespace,
                                    label_selector=options.label_selector,
                                    field_selector=options.field_selector, copies=False)
        meta: Obj = {"resourceVersion": rv}
        start = _continue_start(options.continue_token)
        if options.limit or start:
            end = start + options.limit if options.limit else len(items)
            if end < len(items):
                meta["continue"] = _continue_token(rv, end)
                meta["remainingItemCount"] = len(items) - end
            items = items[start:end]
        body = {"kind": resource.list_kind_name, "apiVersion": resource.api_version,
                "metadata": meta, "items": items}
        rendered = self.render(request, resource, body)
        if rendered is body:
            return web.Response(body=self.cache.encode_list(body), content_type=JSON)
        return reply(rendered)

    async def _create(self, request: web.Request, target: Target, resource: ResourceType,
                      options: Options) -> web.Response:
        if resource.namespaced and not target.namespace:
            raise method_not_allowed()
        obj = await read_object(request)
        self._check_type(resource, obj)
        meta = _metadata(obj)
        if resource.namespaced:
            if meta.get("namespace") and meta["namespace"] != target.namespace:
                raise bad_request("the namespace of the provided object does not match the "
                                  "namespace sent on the request")
            meta["namespace"] = target.namespace
        warnings = self.validate(resource, obj, options.field_validation, None)
        check_name(resource, meta)
        check_labels(resource, meta)
        defaults.on_create(resource, obj)
        created = self.store.create(resource, obj, admit=True, dry_run=options.dry_run)
        return reply(self.render(request, resource, created), 201,
                     _warning_headers(warnings))

    async def _delete_collection(self, request: web.Request, target: Target,
                                 resource: ResourceType, options: Options) -> web.Response:
        propagation, _ = await self._delete_options(request, options)
        items, _ = self.store.list(resource, target.namespace,
                                   label_selector=options.label_selector,
                                   field_selector=options.field_selector)
        deleted = []
        for item in items:
            meta = item["metadata"]
            try:
                obj, _ = self.store.delete(resource, meta.get("namespace"), meta["name"],
                                           propagation=propagation, admit=True,
                                           dry_run=options.dry_run)
            except ApiError as error:
                if error.code != 404:
                    raise
                continue  # removed meanwhile by a cascade: a real server skips it too
            deleted.append(obj)
        body = {"kind": resource.list_kind_name, "apiVersion": resource.api_version,
                "metadata": {"resourceVersion": self.store.current_rv()}, "items": deleted}
        return reply(body)

    # ------------------------------------------------------------------ items
    async def item(self, request: web.Request, target: Target,
                   resource: ResourceType) -> web.Response:
        options = parse_options(request)
        name = target.name or ""
        if request.method == "GET":
            obj = self.store.get(resource, target.namespace, name, copies=False)
            rendered = self.render(request, resource, obj)
            if rendered is obj:
                return web.Response(body=self.cache.encode(obj), content_type=JSON)
            return reply(rendered)
        if request.method == "PUT":
            return await self._update(request, target, resource, options)
        if request.method == "PATCH":
            return await self._patch(request, target, resource, options)
        if request.method == "DELETE" and target.subresource is None:
            return await self._delete(request, target, resource, options)
        raise method_not_allowed()

    async def _update(self, request: web.Request, target: Target, resource: ResourceType,
                      options: Options) -> web.Response:
        obj = await read_object(request)
        self._check_type(resource, obj)
        meta = _metadata(obj)
        if meta.get("name") and meta["name"] != target.name:
            raise bad_request(f"the name of the object ({meta['name']}) does not match the "
                              f"name on the URL ({target.name})")
        if resource.namespaced and meta.get("namespace") not in (None, "", target.namespace):
            raise bad_request("the namespace of the provided object does not match the "
                              "namespace sent on the request")
        meta["name"], meta["namespace"] = target.name, target.namespace
        self._require_rv_for_custom(resource, obj)
        stored = self.store.get(resource, target.namespace, target.name or "", copies=False)
        return self._store_update(request, target, resource, options, obj, stored)

    async def _patch(self, request: web.Request, target: Target, resource: ResourceType,
                     options: Options) -> web.Response:
        patch_body = await read_body(request)
        current = self.store.get(resource, target.namespace, target.name or "")
        patched = self.patch(resource, current, patch_body, request.content_type)
        self._check_type(resource, patched)
        _metadata(patched).update(name=target.name,
                                  namespace=current["metadata"].get("namespace"))
        return self._store_update(request, target, resource, options, patched, current)

    def _store_update(self, request: web.Request, target: Target, resource: ResourceType,
                      options: Options, obj: Obj, current: Obj) -> web.Response:
        """Validate the new object against the stored one, then store and render it."""
        warnings = self.validate(resource, obj, options.field_validation, current)
        check_labels(resource, obj["metadata"])
        updated = self.store.update(resource, obj, subresource=target.subresource,
                                    admit=True, dry_run=options.dry_run)
        return reply(self.render(request, resource, updated),
                     headers=_warning_headers(warnings))

    async def _delete(self, request: web.Request, target: Target, resource: ResourceType,
                      options: Options) -> web.Response:
        propagation, preconditions = await self._delete_options(request, options)
        obj, _removed = self.store.delete(resource, target.namespace, target.name or "",
                                          propagation=propagation,
                                          preconditions=preconditions, admit=True,
                                          dry_run=options.dry_run)
        return reply(obj)

    # ---------------------------------------------------------------- helpers
    async def _delete_options(self, request: web.Request,
                              options: Options) -> tuple[str | None, dict[str, str]]:
        body = await read_body(request, optional=True) if request.can_read_body else None
        body = body if isinstance(body, dict) else {}
        propagation = body.get("propagationPolicy") or options.propagation
        if body.get("orphanDependents") is True and not propagation:
            propagation = "Orphan"
        if propagation not in (None, "Background", "Foreground", "Orphan"):
            raise bad_request(f"propagationPolicy: Unsupported value: {propagation!r}")
        return propagation, {k: str(v) for k, v in (body.get("preconditions") or {}).items()
                             if v}

    @staticmethod
    def _check_type(resource: ResourceType, obj: Obj) -> None:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if api_version and api_version != resource.api_version:
            raise bad_request(f"the API version in the data ({api_version}) does not match "
                              f"the expected API version ({resource.api_version})")
        if kind and kind != resource.kind:
            raise bad_request(f"the kind in the data ({kind}) does not match the expected "
                              f"kind ({resource.kind})")

    @staticmethod
    def _require_rv_for_custom(resource: ResourceType, obj: Obj) -> None:
        """Custom resources refuse unconditional updates, as CRD-backed storage does."""
        if resource.group in BUILTIN_GROUPS or obj["metadata"].get("resourceVersion"):
            return
        raise ApiError(422, "Invalid", (
            f'{resource.kind}.{resource.group} "{obj["metadata"].get("name")}" is invalid: '
            "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"),
            {"name": obj["metadata"].get("name"), "group": resource.group,
             "kind": resource.kind, "causes": [{
                 "reason": "FieldValueInvalid", "field": "metadata.resourceVersion",
                 "message": "Invalid value: 0x0: must be specified for an update"}]})


BUILTIN_GROUPS = frozenset({"", "storage.k8s.io", "authorization.k8s.io",
                            "apiextensions.k8s.io", "rbac.authorization.k8s.io",
                            "authentication.k8s.io", "project.openshift.io"})
