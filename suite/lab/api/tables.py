"""Server-side Table replies (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`),
which `kubectl get` asks for to print columns beyond NAME and AGE.

Clients that do not ask get the object or list unchanged, so this is a view only.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..resources import ResourceType
from .printing import cell, columns_for, priority

_NAME = {"name": "Name", "type": "string", "format": "name", "priority": 0,
         "description": "Name must be unique within a namespace."}


def wants_table(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return "as=Table" in accept and "g=meta.k8s.io" in accept


def _definitions(resource: ResourceType) -> list[dict[str, Any]]:
    # Events hide their generated names unless -o wide, as the real printer does.
    defs = [{**_NAME, "priority": 1 if resource.key == ("", "events") else 0}]
    for header, kind, path in columns_for(resource.group, resource.plural):
        defs.append({"name": header, "type": "string" if kind == "date" else kind,
                     "format": "", "description": path,
                     "priority": priority(resource.group, resource.plural, header)})
    return defs


def _row_object(request: web.Request, obj: dict[str, Any]) -> dict[str, Any] | None:
    include = request.query.get("includeObject", "Metadata")
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata", {})}


def _row(request: web.Request, resource: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    cells = [obj.get("metadata", {}).get("name", "")]
    cells += [cell(obj, column) for column in columns_for(resource.group, resource.plural)]
    row: dict[str, Any] = {"cells": cells}
    shown = _row_object(request, obj)
    if shown is not None:
        row["object"] = shown
    return row


def _table(request: web.Request, resource: ResourceType, items: list[dict[str, Any]],
           meta: dict[str, Any], columns: bool = True) -> dict[str, Any]:
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
            "columnDefinitions": _definitions(resource) if columns else None,
            "rows": [_row(request, resource, item) for item in items]}


def render(request: web.Request, resource: ResourceType, body: dict[str, Any]) -> Any:
    """The body as a Table when the client asked for one, else the body itself."""
    if not wants_table(request):
        return body
    if "items" in body and body.get("kind", "").endswith("List"):
        return _table(request, resource, body["items"], dict(body.get("metadata", {})))
    rv = body.get("metadata", {}).get("resourceVersion", "")
    return _table(request, resource, [body], {"resourceVersion": rv})


def watch_transform(request: web.Request, resource: ResourceType, obj: dict[str, Any]) -> Any:
    """Watch events as one-row Tables; the columns come with the first event only."""
    if not wants_table(request):
        return obj
    first = not request.get("table_columns_sent")
    request["table_columns_sent"] = True
    rv = obj.get("metadata", {}).get("resourceVersion", "")
    return _table(request, resource, [obj], {"resourceVersion": rv}, columns=first)
