"""The API server's own PersistentVolumeClaim rules (no webhook involved).

Mirrors kubernetes/kubernetes:
- pkg/registry/core/persistentvolumeclaim/strategy.go: a new claim starts Pending;
- plugin/pkg/admission/storage/storageclass/setdefault (DefaultStorageClass): a claim
  that names no class gets the default one;
- pkg/apis/core/validation/validation.go `ValidatePersistentVolumeClaimSpec` (at least one
  access mode, a storage request) and `ValidatePersistentVolumeClaimUpdate` (the spec is
  immutable except resources.requests and volumeAttributesClassName of a bound claim; a
  smaller request may not go down to status.capacity, the rule with
  RecoverVolumeExpansionFailure on, its default since Kubernetes 1.32): 422 Invalid;
- plugin/pkg/admission/storage/persistentvolume/resize (PersistentVolumeClaimResize):
  growing needs a class with allowVolumeExpansion: 403 Forbidden.
Validation runs before the validating admission plugin, as in the API server.
"""

from __future__ import annotations

import contextlib
import copy
from typing import TYPE_CHECKING, Any

from ..errors import ApiError, forbidden, invalid
from ..resources import ResourceType
from ..storage.common import ANN_DEFAULT_CLASS, parse_quantity

if TYPE_CHECKING:
    from ..store import Store

Obj = dict[str, Any]
STORAGE_FIELD = "spec.resources.requests.storage"
IMMUTABLE = ("spec is immutable after creation except resources.requests and "
             "volumeAttributesClassName for bound claims")
RESIZE_FORBIDDEN = ("only dynamically provisioned pvc can be resized and the storageclass "
                    "that provisions the pvc must support resize")


def claim_admission(store: Store) -> Any:
    def hook(op: str, resource: ResourceType, obj: Obj, old: Obj | None) -> None:
        if resource.plural != "persistentvolumeclaims" or resource.group:
            return
        if op == "CREATE":
            obj["status"] = {"phase": "Pending"}  # what the registry's create strategy sets
            check_new(obj)
            default_class(store, obj)
        elif op == "UPDATE" and old is not None:
            check_update(store, obj, old)

    return hook


def default_class(store: Store, pvc: Obj) -> None:
    """The DefaultStorageClass plugin: a claim that names no class gets the default one
    (an explicit "" means "no class" and stays)."""
    spec = pvc.setdefault("spec", {})
    if spec.get("storageClassName") is not None:
        return
    for sc in store.list("storage.k8s.io/storageclasses")[0]:
        if (sc["metadata"].get("annotations") or {}).get(ANN_DEFAULT_CLASS) == "true":
            spec["storageClassName"] = sc["metadata"]["name"]
            return


def check_new(pvc: Obj) -> None:
    spec = pvc.get("spec") or {}
    causes = []
    if not spec.get("accessModes"):
        causes.append({"reason": "FieldValueRequired", "field": "spec.accessModes",
                       "message": "Required value: at least 1 access mode is required"})
    if "storage" not in ((spec.get("resources") or {}).get("requests") or {}):
        causes.append({"reason": "FieldValueRequired", "field": "spec.resources[storage]",
                       "message": "Required value"})
    if causes:
        raise invalid("PersistentVolumeClaim", pvc["metadata"].get("name", ""), causes)


def check_update(store: Store, new: Obj, old: Obj) -> None:
    name = old["metadata"]["name"]
    bound = (old.get("status") or {}).get("phase") == "Bound"
    changed = _changed_spec_fields(new, old, bound)
    if changed:
        raise _field_error(name, "spec", IMMUTABLE + "\n" + _diff(changed))
    try:
        new_size, old_size = _storage(new), _storage(old)
    except ValueError:
        return  # the schema validation owns malformed quantities
    if new_size < old_size:
        capacity = _capacity(old)
        if new_size <= capacity:
            raise _field_error(name, STORAGE_FIELD, "field can not be less than status.capacity")
    if new_size > old_size and not _class_allows_expansion(store, old):
        raise forbidden(f'persistentvolumeclaims "{name}" is forbidden: {RESIZE_FORBIDDEN}',
                        "persistentvolumeclaims", name)


def _changed_spec_fields(new: Obj, old: Obj, bound: bool) -> list[tuple[str, Any, Any]]:
    """Spec fields that differ once the allowed changes are put back, as the validation's
    clones do (volumeName may be set once; a class may be set on a claim that had none)."""
    new_spec, old_spec = _normal(new.get("spec")), _normal(old.get("spec"))
    if not old_spec.get("volumeName"):
        old_spec["volumeName"] = new_spec.get("volumeName")
    if old_spec.get("storageClassName") is None and not old_spec.get("volumeName"):
        old_spec["storageClassName"] = new_spec.get("storageClassName")
    if bound:
        requests = new_spec.setdefault("resources", {}).setdefault("requests", {})
        old_requests = (old_spec.get("resources") or {}).get("requests") or {}
        requests["storage"] = old_requests.get("storage")
        new_spec["volumeAttributesClassName"] = old_spec.get("volumeAttributesClassName")
    keys = sorted(set(new_spec) | set(old_spec))
    return [(k, old_spec.get(k), new_spec.get(k)) for k in keys
            if new_spec.get(k) != old_spec.get(k)]


def _normal(spec: Any) -> Obj:
    """A spec copy compared as apiequality.Semantic does: quantities by value, the
    defaulted volumeMode filled in, empty values as absent."""
    out = copy.deepcopy(spec or {})
    out.setdefault("volumeMode", "Filesystem")
    for part in ("requests", "limits"):
        values = (out.get("resources") or {}).get(part) or {}
        for key, value in list(values.items()):
            with contextlib.suppress(ValueError):
                values[key] = parse_quantity(value)
    return {k: v for k, v in out.items() if v not in (None, "", [], {})}


def _diff(changed: list[tuple[str, Any, Any]]) -> str:
    """A short line per changed field, after the shape of the server's cmp.Diff."""
    lines = ["  core.PersistentVolumeClaimSpec{"]
    for key, before, after in changed:
        go_name = key[:1].upper() + key[1:]
        lines.append(f"- \t{go_name}: {before!r},")
        lines.append(f"+ \t{go_name}: {after!r},")
    lines.append("  }")
    return "\n".join(lines)


def _storage(pvc: Obj) -> int:
    requests = ((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}
    return parse_quantity(requests.get("storage", "0"))


def _capacity(pvc: Obj) -> int:
    try:
        return parse_quantity(((pvc.get("status") or {}).get("capacity") or {}).get(
            "storage", "0"))
    except ValueError:
        return 0


def _class_allows_expansion(store: Store, pvc: Obj) -> bool:
    sc_name = (pvc.get("spec") or {}).get("storageClassName")
    sc = store.try_get("storage.k8s.io/storageclasses", None, sc_name or "")
    return bool(sc and sc.get("allowVolumeExpansion"))


def _field_error(name: str, field: str, detail: str) -> ApiError:
    return invalid("PersistentVolumeClaim", name, [{
        "reason": "FieldValueForbidden", "field": field, "message": f"Forbidden: {detail}"}])
