"""/openapi/v3 (index and one document per group/version) and /openapi/v2 as JSON.

kubectl reads these for `explain`, and before `apply`/`create`/`patch` it checks that
each kind's PATCH operation declares the `fieldValidation` parameter: when it does,
kubectl leaves validation to the server (sending fieldValidation=Strict), which is how
the lab's schema checks reach the user. All documents come from the same schema data.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from typing import Any

from aiohttp import web

from ..errors import ApiError
from ..resources import ResourceRegistry, ResourceType
from .discovery import KUBERNETES_VERSION
from .responses import JSON, not_found_path
from .schemas import REF, SchemaBook

V3_REF = "#/components/schemas/"
_QUERY_PARAMS = ("dryRun", "fieldManager", "fieldValidation", "pretty")


def schema_name(resource: ResourceType) -> str:
    """Names as the real documents use: io.k8s.api.core.v1.Pod, io.kubevirt.v1.VirtualMachine."""
    if resource.group in ("", "storage.k8s.io", "authorization.k8s.io"):
        prefix = "io.k8s.api." + (resource.group.split(".")[0] or "core")
    else:
        prefix = ".".join(reversed(resource.group.split(".")))
    return f"{prefix}.{resource.version}.{resource.kind}"


def _collection_path(resource: ResourceType) -> str:
    base = f"/apis/{resource.group}/{resource.version}" if resource.group else "/api/v1"
    namespace = "/namespaces/{namespace}" if resource.namespaced else ""
    return f"{base}{namespace}/{resource.plural}"


def _operation(resource: ResourceType, action: str, ref: str) -> dict[str, Any]:
    params = [{"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
              for n in _QUERY_PARAMS]
    body = {"content": {JSON: {"schema": {"$ref": ref}}}}
    return {"operationId": f"{action}{resource.kind}", "parameters": params,
            "responses": {"200": {"description": "OK", **body}},
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": {"group": resource.group,
                                                "version": resource.version,
                                                "kind": resource.kind}}


def _paths(resource: ResourceType, ref: str) -> dict[str, Any]:
    collection = _collection_path(resource)
    verbs = set(resource.verbs)
    item = {m: _operation(resource, a, ref) for m, a, v in (
        ("get", "get", "get"), ("put", "put", "update"), ("patch", "patch", "patch"),
        ("delete", "delete", "delete")) if v in verbs}
    listing = {m: _operation(resource, a, ref) for m, a, v in (
        ("get", "list", "list"), ("post", "post", "create")) if v in verbs}
    paths = {collection: listing}
    if item:
        paths[collection + "/{name}"] = item
    return paths


class OpenApiDocs:
    """Renders and caches the documents; the data never changes while a lab runs."""

    def __init__(self, schemas: SchemaBook, registry: ResourceRegistry) -> None:
        self.schemas = schemas
        self.registry = registry
        self._v3: dict[str, bytes] = {}

    def _kinds(self, group_version: str | None) -> list[ResourceType]:
        return [r for r in self.registry if group_version in (None, r.group_version)]

    def _schema(self, resource: ResourceType) -> dict[str, Any]:
        """The kind's schema; kinds the schema data lacks (RBAC, projects) get an open
        object, so kubectl still finds their kind and leaves checks to the server."""
        found = self.schemas.schema_for(resource)
        if found is not None:
            return found
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                "x-kubernetes-group-version-kind": [{
                    "group": resource.group, "version": resource.version,
                    "kind": resource.kind}]}

    def v3_document(self, group_version: str) -> bytes | None:
        if group_version not in self._v3:
            kinds = self._kinds(group_version)
            if not kinds:
                return None
            self._v3[group_version] = self._render_v3(kinds)
        return self._v3[group_version]

    def _render_v3(self, kinds: list[ResourceType]) -> bytes:
        components = dict(self.schemas.definitions)
        paths: dict[str, Any] = {}
        for resource in kinds:
            components[schema_name(resource)] = self._schema(resource)
            paths.update(_paths(resource, V3_REF + schema_name(resource)))
        doc = {"openapi": "3.0.0", "info": {"title": "Kubernetes",
                                            "version": KUBERNETES_VERSION["gitVersion"]},
               "paths": paths, "components": {"schemas": components}}
        return json.dumps(doc, separators=(",", ":")).replace(REF, V3_REF).encode()

    def v3_index(self) -> dict[str, Any]:
        paths = {}
        for gv in dict.fromkeys(r.group_version for r in self._kinds(None)):
            doc = self.v3_document(gv) or b""
            key = f"apis/{gv}" if "/" in gv else f"api/{gv}"
            digest = hashlib.sha512(doc).hexdigest()[:64].upper()
            paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
        return {"paths": paths}

    @cached_property
    def v2(self) -> bytes:
        definitions = dict(self.schemas.definitions)
        paths: dict[str, Any] = {}
        for resource in self._kinds(None):
            definitions[schema_name(resource)] = self._schema(resource)
            paths.update(_paths(resource, REF + schema_name(resource)))
        doc = {"swagger": "2.0", "info": {"title": "Kubernetes",
                                          "version": KUBERNETES_VERSION["gitVersion"]},
               "paths": paths, "definitions": definitions}
        return json.dumps(doc, separators=(",", ":")).encode()


def serve(request: web.Request, path: str, docs: OpenApiDocs) -> web.Response:
    if path == "/openapi/v2":
        accept = request.headers.get("Accept", "")
        if "protobuf" in accept and "json" not in accept and "*/*" not in accept:
            # No protobuf encoding here; clients fall back as from a server without it.
            raise ApiError(406, "NotAcceptable",
                           "only the following media types are accepted: application/json")
        return web.Response(body=docs.v2, content_type=JSON)
    if path == "/openapi/v3":
        return web.Response(text=json.dumps(docs.v3_index()), content_type=JSON)
    gv = path.removeprefix("/openapi/v3/").removeprefix("apis/").removeprefix("api/")
    body = docs.v3_document(gv) if path.startswith("/openapi/v3/") else None
    if body is None:
        raise not_found_path()
    return web.Response(body=body, content_type=JSON,
                        headers={"Cache-Control": "public, immutable"})
