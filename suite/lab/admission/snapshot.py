"""VolumeSnapshot spec rules: the CEL validations of external-snapshotter's CRD.

Mirrors kubernetes-csi/external-snapshotter client/config/crd/
snapshot.storage.k8s.io_volumesnapshots.yaml (v8, where CEL rules replaced the old
validation webhook): `spec.source` holds exactly one of persistentVolumeClaimName and
volumeSnapshotContentName, each immutable and required once set, and
volumeSnapshotClassName is never "". The API server reports a failed rule as a 422 field
error `Invalid value: "<schema type>": <rule message>` (apiextensions-apiserver's CEL
validator); the lab's schema validation does not run CEL, so this module does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import invalid
from ..resources import ResourceType

if TYPE_CHECKING:
    from ..store import Store

GROUP = "snapshot.storage.k8s.io"
SOURCE_FIELDS = ("persistentVolumeClaimName", "volumeSnapshotContentName")


def _cause(field: str, schema_type: str, message: str) -> dict[str, str]:
    return {"reason": "FieldValueInvalid", "field": field,
            "message": f'Invalid value: "{schema_type}": {message}'}


def snapshot_causes(spec: dict[str, Any], old_spec: dict[str, Any] | None) -> list[dict[str, str]]:
    source = spec.get("source") or {}
    causes: list[dict[str, str]] = []
    if old_spec is not None:
        old_source = old_spec.get("source") or {}
        for key in SOURCE_FIELDS:
            if key in old_source and key in source and source[key] != old_source[key]:
                causes.append(_cause(f"spec.source.{key}", "string", f"{key} is immutable"))
        for key in SOURCE_FIELDS:
            if key in old_source and key not in source:
                causes.append(_cause("spec.source", "object", f"{key} is required once set"))
    if sum(key in source for key in SOURCE_FIELDS) != 1:
        causes.append(_cause("spec.source", "object", "exactly one of "
                             "volumeSnapshotContentName and persistentVolumeClaimName must "
                             "be set"))
    if spec.get("volumeSnapshotClassName") == "":
        causes.append(_cause("spec.volumeSnapshotClassName", "string",
                             "volumeSnapshotClassName must not be the empty string when set"))
    return causes


def snapshot_admission(store: Store) -> Any:
    def hook(op: str, resource: ResourceType, obj: dict[str, Any], old: Any) -> None:
        if op not in ("CREATE", "UPDATE") or (resource.group, resource.plural) != (
                GROUP, "volumesnapshots"):
            return
        old_spec = (old.get("spec") or {}) if op == "UPDATE" and old is not None else None
        causes = snapshot_causes(obj.get("spec") or {}, old_spec)
        if causes:
            raise invalid("VolumeSnapshot", obj["metadata"].get("name", ""), causes, GROUP)
    return hook
