"""The PVC a DataVolume asks for: `spec.pvc` as given, `spec.storage` completed the way
CDI completes it (class defaults, StorageProfile claimPropertySets, filesystem
overhead added to the size of Filesystem claims).
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING

from ..common import (
    ANN_DEFAULT_CLASS,
    ANN_DEFAULT_VIRT_CLASS,
    Obj,
    format_quantity,
    fs_overhead,
    parse_quantity,
)

if TYPE_CHECKING:
    from ...context import LabContext

MIB = 1024 * 1024


class ClaimNotValid(Exception):
    """CDI's ErrClaimNotValid: the DataVolume cannot become a claim (message as CDI's)."""


def required_space(overhead: float, size: int) -> int:
    """CDI's GetRequiredSpace: align to 1 MiB, then count overhead as part of the whole."""
    aligned = -(-size // MIB) * MIB
    return math.ceil(aligned / (1 - overhead))


def claim_spec(ctx: LabContext, dv: Obj, source_size: int | None = None) -> Obj:
    spec = dv.get("spec") or {}
    if spec.get("pvc") is not None and spec.get("storage") is not None:
        raise ClaimNotValid("Duplicate storage definition, both target storage and target pvc "
                            "defined")
    if spec.get("pvc") is not None:
        pvc = copy.deepcopy(spec["pvc"])
        if not pvc.get("accessModes"):
            raise ClaimNotValid("spec.pvc.accessModes: Required value: at least 1 access mode "
                                "is required")
        return pvc
    if spec.get("storage") is None:
        raise ClaimNotValid("Missing Data volume PVC")
    return _from_storage(ctx, copy.deepcopy(spec["storage"]), source_size)


def _from_storage(ctx: LabContext, storage: Obj, source_size: int | None) -> Obj:
    sc_name = storage.get("storageClassName") or _default_class(ctx)
    if sc_name:
        storage["storageClassName"] = sc_name
    _apply_profile(ctx, storage, sc_name)
    requests = (storage.get("resources") or {}).get("requests") or {}
    if "storage" in requests:
        size = parse_quantity(requests["storage"])
        if storage.get("volumeMode") == "Filesystem":
            size = required_space(fs_overhead(ctx, sc_name), size)
    elif source_size is not None:
        size = source_size
    else:
        raise ClaimNotValid("Datavolume Spec is not valid - missing storage size")
    storage.setdefault("resources", {}).setdefault("requests", {})["storage"] = \
        format_quantity(size)
    return storage


def _default_class(ctx: LabContext) -> str | None:
    classes = ctx.store.list("storage.k8s.io/storageclasses")[0]
    for annotation in (ANN_DEFAULT_VIRT_CLASS, ANN_DEFAULT_CLASS):
        for sc in classes:
            if (sc["metadata"].get("annotations") or {}).get(annotation) == "true":
                return str(sc["metadata"]["name"])
    return None


def _apply_profile(ctx: LabContext, storage: Obj, sc_name: str | None) -> None:
    mode, access = storage.get("volumeMode"), storage.get("accessModes")
    if mode == "FromStorageProfile":
        mode = storage["volumeMode"] = None
    if mode and access:
        return
    if not sc_name:
        raise ClaimNotValid("no accessMode specified and StorageClass not found")
    profile = ctx.store.try_get("cdi.kubevirt.io/storageprofiles", None, sc_name)
    sets = ((profile or {}).get("status") or {}).get("claimPropertySets") or []
    chosen = _choose_set(sets, mode, access)
    if chosen is None:
        raise ClaimNotValid(f"no accessMode specified in StorageProfile {sc_name}")
    storage["accessModes"] = access or list(chosen["accessModes"])
    storage["volumeMode"] = mode or chosen["volumeMode"]


def _choose_set(sets: list[Obj], mode: str | None, access: list[str] | None) -> Obj | None:
    for one in sets:
        if mode and one.get("volumeMode") != mode:
            continue
        if access and not set(access) <= set(one.get("accessModes") or []):
            continue
        return one
    if access and not mode:
        return {"accessModes": access, "volumeMode": "Filesystem"}
    return None
