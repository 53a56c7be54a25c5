"""What a StorageClass *declares*, decided once at discovery and read by everyone.

Checks, the assessment's discovery-layer verdicts, the matrix and every report
print "declared" beside the observed verdict; when each computed it on its own
they disagreed (a class with `kmsKeyId` or `diskEncryptionSetID` was encrypted for
the check and silent for the matrix, so a class without volumes came out
"does not declare it"). This module is the only place that reads declarations
out of a class's discovery facts; discovery stores the result in the facts
(`facts["declared"]`, so matrix.json shows what the suite judged by) and
readers get it back as one frozen :class:`Declarations`.

Encryption at rest, from the StorageClass parameters of real CSI drivers:

* a switch whose value decides: ceph-csi RBD/CephFS, AWS EBS, IBM VPC, Longhorn
  `encrypted: "true"`; NetApp Trident `encryption`; Portworx `secure: "true"`.
  When a switch is present and off, nothing else counts (EBS ignores `kmsKeyId`
  and ceph-csi ignores `encryptionKMSID` unless `encrypted` is true).
* a key reference that is itself the switch: Azure Disk `diskEncryptionSetID`,
  GCE PD `disk-encryption-kms-key`.
* key references that only qualify a switch (`kmsKeyId`, `encryptionKMSID`,
  `encryptionType`, `encryptionKey`): evidence, never a declaration alone.
Keys are compared after their last `/` and case-blind, so prefixed spellings
(`csi.storage.k8s.io/encrypted`) count too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SWITCHES = ("encrypted", "encryption", "encrypt", "secure")
KEY_SWITCHES = ("diskencryptionsetid", "disk-encryption-kms-key")
QUALIFIERS = ("kmskeyid", "encryptionkmsid", "encryptiontype", "encryptionkey")
FALSE_VALUES = ("", "false", "0", "no", "none", "off", "disabled")
MODES = {"block": "Block", "filesystem": "Filesystem"}
ACCESS = {"rwo": "ReadWriteOnce", "rwx": "ReadWriteMany"}

Pair = tuple[str, str]


def _short(key: str) -> str:
    return key.rsplit("/", 1)[-1].strip().lower()


def _on(value: Any) -> bool:
    return str(value).strip().lower() not in FALSE_VALUES


def encryption_parameters(parameters: dict[str, Any]) -> dict[str, str]:
    """The parameters by which a class declares encryption at rest ({} when it does not)."""
    def having(names: tuple[str, ...]) -> dict[str, str]:
        return {k: str(v) for k, v in parameters.items() if _short(k) in names}

    switches, keys = having(SWITCHES), having(KEY_SWITCHES)
    deciding = switches or keys  # a present switch decides, even against a key
    if not any(_on(v) for v in deciding.values()):
        return {}
    found = {**switches, **keys, **having(QUALIFIERS)}
    return {k: v for k, v in sorted(found.items()) if _on(v)}


def _pairs(storage_profile: dict[str, Any] | None) -> tuple[Pair, ...] | None:
    """(volumeMode, accessMode) pairs of the StorageProfile, in its order; volumeMode
    Filesystem when a claimPropertySet leaves it out (the Kubernetes default)."""
    sets = (storage_profile or {}).get("claimPropertySets") or []
    if not sets:
        return None
    pairs: list[Pair] = []
    for entry in sets:
        for access in entry.get("accessModes") or []:
            pair = (entry.get("volumeMode") or "Filesystem", str(access))
            if pair not in pairs:
                pairs.append(pair)
    return tuple(pairs)


@dataclass(frozen=True)
class Declarations:
    """One class's declarations. `pairs` is None when no StorageProfile lists any."""

    pairs: tuple[Pair, ...] | None
    expansion: bool
    snapshot_classes: tuple[str, ...]
    encryption_by: tuple[tuple[str, str], ...]

    @property
    def encrypts(self) -> bool:
        return bool(self.encryption_by)

    def declares_pair(self, volume_mode: str, access_mode: str) -> bool | None:
        return None if self.pairs is None else (volume_mode, access_mode) in self.pairs

    def capability(self, capability: str) -> bool | None:
        """True / False when the class's objects declare `capability`; None when silent."""
        family, _, rest = capability.partition(".")
        if family == "provision":
            mode, _, access = rest.partition(".")
            return self.declares_pair(MODES[mode], ACCESS[access])
        if family == "expand":
            # A StorageClass cannot say whether growth works while the volume is in use.
            return None if capability == "expand.online" and self.expansion else self.expansion
        if family == "snapshot":
            return bool(self.snapshot_classes)
        if family == "clone":
            return True  # CDI offers cloning on every class; the strategy is the question
        if family == "migration":
            return None if self.pairs is None else any(a == "ReadWriteMany"
                                                       for _, a in self.pairs)
        if family == "encryption":
            return self.encrypts
        return None

    def to_json(self) -> dict[str, Any]:
        return {"volumeModes": None if self.pairs is None else [list(p) for p in self.pairs],
                "expansion": self.expansion, "snapshotClasses": list(self.snapshot_classes),
                "encryptionBy": dict(self.encryption_by)}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Declarations:
        modes = raw.get("volumeModes")
        return cls(pairs=None if modes is None else tuple((str(m), str(a)) for m, a in modes),
                   expansion=bool(raw.get("expansion")),
                   snapshot_classes=tuple(raw.get("snapshotClasses") or ()),
                   encryption_by=tuple(sorted((raw.get("encryptionBy") or {}).items())))


def derive(facts: dict[str, Any]) -> Declarations:
    """Declarations from a class's discovery facts (done once, by discovery)."""
    return Declarations(
        pairs=_pairs(facts.get("storageProfile")),
        expansion=bool(facts.get("allowVolumeExpansion")),
        snapshot_classes=tuple(facts.get("volumeSnapshotClasses") or ()),
        encryption_by=tuple(encryption_parameters(facts.get("parameters") or {}).items()))


def declarations(facts: dict[str, Any]) -> Declarations:
    """What discovery recorded for this class; derived on the spot only for facts that
    predate it (a matrix.json of an older run, or facts built by hand)."""
    recorded = facts.get("declared")
    if isinstance(recorded, dict):
        return Declarations.from_json(recorded)
    return derive(facts)


def declared(capability: str, facts: dict[str, Any]) -> bool | None:
    """Shorthand used by the assessment, the plugin and the reports."""
    return declarations(facts).capability(capability)
