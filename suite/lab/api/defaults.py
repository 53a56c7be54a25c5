"""Defaults the real API server's registries apply on create, before admission.

Only what clients can observe and rely on: a create cannot set the status of a kind
with a status subresource (its controller owns it); a namespace gets the `kubernetes`
finalizer, phase Active and the `kubernetes.io/metadata.name` label.
"""

from __future__ import annotations

from typing import Any

from ..resources import ResourceType


def on_create(resource: ResourceType, obj: dict[str, Any]) -> None:
    if resource.has_status():
        obj.pop("status", None)
    if resource.key == ("", "namespaces"):
        _namespace(obj)


def _namespace(obj: dict[str, Any]) -> None:
    meta = obj.setdefault("metadata", {})
    if meta.get("name"):
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
    spec = obj.setdefault("spec", {})
    spec.setdefault("finalizers", ["kubernetes"])
    obj["status"] = {"phase": "Active"}
