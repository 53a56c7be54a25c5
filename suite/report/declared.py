"""What a StorageClass *declares* for each capability, read from its discovery facts.

The matrix prints this beside the verdict ("declared RWX, works" / "undeclared,
works"), because the gap between datasheet and behaviour is what buyers pay for.
``None`` means the cluster declares nothing either way (e.g. no StorageProfile).
"""

from __future__ import annotations

from typing import Any

_MODES = {"block": "Block", "filesystem": "Filesystem"}
_ACCESS = {"rwo": "ReadWriteOnce", "rwx": "ReadWriteMany"}
_ENCRYPTION_KEYS = ("encrypted", "encryption", "encrypt", "csi.storage.k8s.io/encrypted")


def _claim_sets(facts: dict[str, Any]) -> list[dict[str, Any]] | None:
    profile = facts.get("storageProfile") or {}
    sets = profile.get("claimPropertySets")
    return sets if sets else None


def declares_mode(facts: dict[str, Any], volume_mode: str, access_mode: str) -> bool | None:
    sets = _claim_sets(facts)
    if sets is None:
        return None
    return any(s.get("volumeMode") == volume_mode and access_mode in (s.get("accessModes") or [])
               for s in sets)


def _declares_rwx(facts: dict[str, Any]) -> bool | None:
    sets = _claim_sets(facts)
    if sets is None:
        return None
    return any("ReadWriteMany" in (s.get("accessModes") or []) for s in sets)


def _declares_encryption(facts: dict[str, Any]) -> bool:
    params = facts.get("parameters") or {}
    return any(str(params.get(k, "")).lower() in ("true", "yes", "1", "luks")
               for k in _ENCRYPTION_KEYS)


def declared(capability: str, facts: dict[str, Any]) -> bool | None:
    """True / False when the class's objects declare the capability; None when silent."""
    family, _, rest = capability.partition(".")
    if family == "provision":
        mode, _, access = rest.partition(".")
        return declares_mode(facts, _MODES[mode], _ACCESS[access])
    if family == "expand":
        allowed = bool(facts.get("allowVolumeExpansion"))
        # A StorageClass cannot say whether growth works while the volume is in use.
        return None if capability == "expand.online" and allowed else allowed
    if family == "snapshot":
        return bool(facts.get("volumeSnapshotClasses"))
    if family == "clone":
        return True  # CDI offers cloning on every class; the strategy is the question
    if family == "migration":
        return _declares_rwx(facts)
    if family == "encryption":
        return _declares_encryption(facts)
    return None


def describe(declared_value: bool | None, verdict: str) -> str:
    """Declared beside observed, in a few words for a table cell."""
    said = {True: "declared", False: "undeclared", None: "not declared either way"}
    seen = {"supported": "works", "unsupported": "not offered", "broken": "broken",
            "inconclusive": "undecided", "skipped": "not tested"}[verdict]
    return f"{said[declared_value]}, {seen}"
