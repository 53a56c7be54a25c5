"""A claim starts Pending; and the PVC resize checks the API server makes before a claim can grow.

Validation first (a shrink below status.capacity, or a resize of an unbound claim, is a
422 field error), then the PersistentVolumeClaimResize admission plugin (a class without
allowVolumeExpansion is a 403), with the real messages, so a suite that tells
"unsupported" from "broken" by the refusal sees what a cluster sends.
"""

from __future__ import annotations

from typing import Any

from ..errors import ApiError, forbidden, invalid
from ..resources import ResourceType
from .common import ANN_DEFAULT_CLASS, Obj, parse_quantity, requested_bytes

STORAGE_FIELD = "spec.resources.requests.storage"


def claim_admission(store: Any) -> Any:
    def hook(op: str, resource: ResourceType, obj: Obj, old: Obj | None) -> None:
        if resource.plural != "persistentvolumeclaims" or resource.group:
            return
        if op == "CREATE":
            obj["status"] = {"phase": "Pending"}  # what the registry's create strategy sets
            default_class(store, obj)
        elif op == "UPDATE" and old is not None:
            check_resize(store, obj, old)

    return hook


def default_class(store: Any, pvc: Obj) -> None:
    """The DefaultStorageClass plugin: a claim that names no class gets the default one
    (an explicit "" means "no class" and stays)."""
    spec = pvc.setdefault("spec", {})
    if spec.get("storageClassName") is not None:
        return
    for sc in store.list("storage.k8s.io/storageclasses")[0]:
        if (sc["metadata"].get("annotations") or {}).get(ANN_DEFAULT_CLASS) == "true":
            spec["storageClassName"] = sc["metadata"]["name"]
            return


def check_resize(store: Any, new: Obj, old: Obj) -> None:
    try:
        new_size, old_size = requested_bytes(new), requested_bytes(old)
    except ValueError:
        return  # the schema validation owns malformed quantities
    if new_size == old_size:
        return
    name = old["metadata"]["name"]
    status = old.get("status") or {}
    if status.get("phase") != "Bound":
        raise _field_error(name, "spec", "spec is immutable after creation except "
                           "resources.requests and volumeAttributesClassName for bound claims")
    capacity = parse_quantity((status.get("capacity") or {}).get("storage", "0"))
    if new_size < capacity:
        raise _field_error(name, STORAGE_FIELD, "field can not be less than status.capacity")
    if new_size > old_size and not _class_allows_expansion(store, old):
        raise forbidden(f'persistentvolumeclaims "{name}" is forbidden: only dynamically '
                        "provisioned pvc can be resized and the storageclass that provisions "
                        "the pvc must support resize", "persistentvolumeclaims", name)


def _class_allows_expansion(store: Any, pvc: Obj) -> bool:
    sc_name = (pvc.get("spec") or {}).get("storageClassName")
    sc = store.try_get("storage.k8s.io/storageclasses", None, sc_name or "")
    return bool(sc and sc.get("allowVolumeExpansion"))


def _field_error(name: str, field: str, detail: str) -> ApiError:
    return invalid("PersistentVolumeClaim", name, [{
        "reason": "FieldValueForbidden", "field": field, "message": f"Forbidden: {detail}"}])
