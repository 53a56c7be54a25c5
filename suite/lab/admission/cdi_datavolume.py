"""CDI's DataVolume webhook (`datavolume-validate.cdi.kubevirt.io`).

Mirrors kubevirt/containerized-data-importer pkg/apiserver/webhooks/datavolume-validate.go
(`Admit`, `validateDataVolumeSpec`, `validateStorageSize`) and util.go
(`validateNumberOfSources`): the spec is immutable; a new DataVolume may not take over a
claim it does not own; exactly one of `pvc` / `storage`; a size of at least 1 MiB (only
`storage` clones may leave it out); access modes (one for `pvc`); exactly one source or
sourceRef, or external population; clone sources name their namespace and name.
Refusals are 422 with no reason and every message after a space (CDI's
`toRejectedAdmissionResponse`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..resources import ResourceType
from ..storage.common import parse_quantity
from .webhook import DATAVOLUME_VALIDATE, Cause, cdi_causes, invalid

if TYPE_CHECKING:
    from ..store import Store

MIB = 1 << 20
MAX_NAME = 253
ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
SOURCES = ("http", "s3", "gcs", "registry", "pvc", "upload", "blank", "imageio", "vddk",
           "snapshot")
ANN_POPULATED_FOR = "cdi.kubevirt.io/storage.populatedFor"
ANN_ALLOW_ADOPTION = "cdi.kubevirt.io/allowClaimAdoption"


def validate_spec(spec: dict[str, Any]) -> list[Cause]:
    """validateDataVolumeSpec: the first problem found, as CDI returns early."""
    pvc, storage = spec.get("pvc"), spec.get("storage")
    if pvc is None and storage is None:
        return [invalid("Missing Data volume PVC", "spec.PVC")]
    if pvc is not None and storage is not None:
        return [invalid("Duplicate storage definition, both target storage and target pvc "
                        "defined", "spec.PVC.Storage")]
    problem = _size(spec) or _class_name(pvc, storage) or _access_modes(pvc, storage)
    if problem is not None:
        return [problem]
    target = (pvc if pvc is not None else storage) or {}
    if target.get("dataSourceRef") is not None or target.get("dataSource") is not None:
        if spec.get("source") is not None or spec.get("sourceRef") is not None:
            return [invalid("External population is incompatible with Source and SourceRef",
                            "spec.source")]
        return []
    if (spec.get("source") is None) == (spec.get("sourceRef") is None):
        return [invalid("Data volume should have either Source or SourceRef, or be "
                        "externally populated", "spec.source")]
    if spec.get("sourceRef") is not None:
        return _source_ref(spec["sourceRef"] or {})
    return _source(spec.get("source") or {})


def _size(spec: dict[str, Any]) -> Cause | None:
    name = "PVC" if spec.get("pvc") is not None else "Storage"
    target = spec.get("pvc") if name == "PVC" else spec.get("storage")
    requests = ((target or {}).get("resources") or {}).get("requests") or {}
    source = spec.get("source") or {}
    is_clone = (spec.get("sourceRef") is not None or source.get("pvc") is not None
                or source.get("snapshot") is not None)
    field = f"spec.{name}.resources.requests.size"
    if "storage" in requests:
        try:
            size = parse_quantity(requests["storage"])
        except ValueError:
            return None  # the schema validation owns malformed quantities
        if size <= 0:
            return invalid(f"{name} size can't be equal or less than zero", field)
        if size < MIB:
            return invalid(f"{name} size should be at least 1MiB", field)
    elif name == "PVC" or not is_clone:
        return invalid(f"{name} size is missing", field)
    return None


def _class_name(pvc: dict[str, Any] | None, storage: dict[str, Any] | None) -> Cause | None:
    name = ((pvc if pvc is not None else storage) or {}).get("storageClassName") or ""
    if len(name) > MAX_NAME:
        return invalid(f"Name cannot be longer than {MAX_NAME} characters")
    return None


def _access_modes(pvc: dict[str, Any] | None, storage: dict[str, Any] | None) -> Cause | None:
    field = "spec.PVC.accessModes"
    modes = list(((pvc if pvc is not None else storage) or {}).get("accessModes") or [])
    if pvc is not None and not modes:
        return invalid("Required value: at least 1 access mode is required", field)
    if pvc is not None and len(modes) > 1:
        return invalid("PVC multiple accessModes", field)
    if any(mode not in ACCESS_MODES for mode in modes):
        # CDI names the first mode in its message, whichever one was wrong
        return invalid(f'Unsupported value: "{modes[0]}": supported values: "ReadOnlyMany", '
                       '"ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"', field)
    return None


def _source_ref(ref: dict[str, Any]) -> list[Cause]:
    if not ref.get("kind"):
        return [invalid("Missing sourceRef kind", "spec.sourceRef.Kind")]
    if ref["kind"] != "DataSource":
        return [invalid(f"Unsupported sourceRef kind {ref['kind']}, currently only "
                        "DataSource is supported", "spec.sourceRef.Kind")]
    if not ref.get("name"):
        return [invalid("Missing sourceRef name", "spec.sourceRef.Name")]
    return []


def _source(source: dict[str, Any]) -> list[Cause]:
    count = sum(source.get(kind) is not None for kind in SOURCES)
    if count == 0:
        return [invalid("Missing Data volume source", "spec.source")]
    if count > 1:
        return [invalid("Multiple Data volume sources", "spec.source")]
    for kind, label, noun in (("pvc", "PVC", "PVC"), ("snapshot", "Snapshot", "snapshot")):
        ref = source.get(kind)
        if ref is not None and not (ref.get("namespace") and ref.get("name")):
            field = f"spec.source.{label}"
            return [invalid(f"{field} source {noun} is not valid", field)]
    return []


def _claim_taken(store: Store, dv: dict[str, Any]) -> list[Cause]:
    """A claim of the DataVolume's name that CDI did not populate and no DataVolume owns."""
    meta = dv["metadata"]
    pvc = store.try_get("persistentvolumeclaims", meta.get("namespace", ""), meta["name"])
    if pvc is None:
        return []
    annotations = pvc["metadata"].get("annotations") or {}
    if annotations.get(ANN_POPULATED_FOR) == meta["name"]:
        return []
    if str((meta.get("annotations") or {}).get(ANN_ALLOW_ADOPTION, "")).lower() == "true":
        return []
    owner = next((ref for ref in pvc["metadata"].get("ownerReferences") or []
                  if ref.get("controller")), None)
    if owner is not None and owner.get("kind") == "DataVolume":
        return []
    return [Cause("FieldValueDuplicate", f"Destination PVC {pvc['metadata']['namespace']}/"
                  f"{pvc['metadata']['name']} already exists", "DataVolume.Name")]


def datavolume_admission(store: Store) -> Any:
    def hook(op: str, resource: ResourceType, obj: dict[str, Any], old: Any) -> None:
        if op not in ("CREATE", "UPDATE") or (resource.group, resource.plural) != (
                "cdi.kubevirt.io", "datavolumes"):
            return
        if op == "UPDATE" and old is not None and obj.get("spec") != old.get("spec"):
            raise cdi_causes(DATAVOLUME_VALIDATE, [Cause(
                "FieldValueDuplicate", "Cannot update DataVolume Spec", "DataVolume.Spec")])
        if len(obj["metadata"].get("name", "")) > MAX_NAME:
            raise cdi_causes(DATAVOLUME_VALIDATE, [invalid(
                f"Name cannot be longer than {MAX_NAME} characters")])
        causes = _claim_taken(store, obj) if op == "CREATE" else []
        causes = causes or validate_spec(obj.get("spec") or {})
        if causes:
            raise cdi_causes(DATAVOLUME_VALIDATE, causes)
    return hook
