"""Lab driver profiles: the YAML contract (docs/lab-drivers.md) as data.

Outside tools write these files, so they are parsed strictly: an unknown key or value is
one line naming its path (`drivers[1].modes.Blok: unknown volume mode; ...`), never a
traceback and never silently ignored (Kubernetes ignores unknown keys; we do better).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from suite.strictyaml import (
    UNKNOWN_KEY,
    StrictYamlError,
    YamlSyntaxError,
    check_keys,
    parse_yaml,
    require_keys,
)

VOLUME_MODES = ("Block", "Filesystem")
ACCESS_MODES = ("ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod")
BINDING_MODES = ("Immediate", "WaitForFirstConsumer")
EXPANSIONS = ("none", "offline", "online")
CLONES = ("csi-clone", "snapshot", "copy")
ENCRYPTIONS = ("none", "luks")
LIMIT_KEYS = ("iops", "bandwidthMiBs")
FAULTS = (
    "snapshot-restores-stale-data",
    "clone-returns-zeroes",
    "online-expansion-invisible-to-guest",
    "migration-fails",
    "encryption-not-applied",
    "provisioning-hangs",
    "hotplug-disk-invisible",
    "export-serves-stale-data",
)
NOISES = (
    "provision-retry",
    "resize-retry",
    "schedule-backoff",
    "attach-slow",
    "import-retry",
    "snapshot-slow",
    "capacity-rounds-up",
)
TYPES = ("csi", "no-provisioner", "object-bucket")
# What a non-CSI class's StorageClass names as provisioner (docs/lab-drivers.md, "Driver `type`"):
# the in-tree marker for statically provisioned local volumes, and NooBaa's object-bucket
# provisioner (both listed in CDI's storagecapabilities.UnsupportedProvisioners).
NO_PROVISIONER = "kubernetes.io/no-provisioner"
OBJECT_BUCKET_PROVISIONER = "openshift-storage.noobaa.io/obc"
_KEYS = ("name", "provisioner", "type", "default", "defaultVirt", "volumeBindingMode",
         "modes", "expansion", "snapshots", "clone", "encryption", "limits", "faults", "noise")
TOP_LEVEL_KEYS = ("drivers", "cluster")
_REQUIRED = ("name", "provisioner", "modes")


class DriverProfileError(ValueError):
    """A driver file a user wrote is wrong; the message is one line naming the path."""


@contextlib.contextmanager
def driver_file_errors() -> Iterator[None]:
    """The shared strict validator's errors (suite.strictyaml) as DriverProfileError."""
    try:
        yield
    except StrictYamlError as exc:
        raise DriverProfileError(str(exc)) from None


@dataclass(frozen=True)
class DriverProfile:
    """One lab CSI driver and the StorageClass that exposes it."""

    name: str
    provisioner: str
    modes: dict[str, tuple[str, ...]]
    default: bool = False
    default_virt: bool = False
    volume_binding_mode: str = "Immediate"
    expansion: str = "none"
    snapshots: bool = False
    clone: str = "copy"
    encryption: str = "none"
    limits: dict[str, int] | None = None
    faults: tuple[str, ...] = field(default=())
    noise: tuple[str, ...] = field(default=())
    type: str = "csi"

    def offers(self, volume_mode: str, access_modes: list[str]) -> bool:
        offered = self.modes.get(volume_mode, ())
        return bool(access_modes) and all(mode in offered for mode in access_modes)

    def has_fault(self, fault: str) -> bool:
        return fault in self.faults

    def has_noise(self, noise: str) -> bool:
        return noise in self.noise

    @property
    def is_csi(self) -> bool:
        """Only CSI classes provision; the others exist so the suite can learn to skip them."""
        return self.type == "csi"

    @property
    def class_provisioner(self) -> str:
        """What the StorageClass says: the CSI driver's name, or the non-CSI marker."""
        if self.type == "no-provisioner":
            return NO_PROVISIONER
        if self.type == "object-bucket":
            return OBJECT_BUCKET_PROVISIONER
        return self.provisioner

    @property
    def allow_expansion(self) -> bool:
        return self.expansion != "none"


DEFAULT_DRIVERS_YAML = """
drivers:
  - name: lab-ceph-rbd
    provisioner: rbd.csi.lab.io
    default: false
    defaultVirt: true
    volumeBindingMode: Immediate
    modes:
      Block: [ReadWriteOnce, ReadWriteMany]
      Filesystem: [ReadWriteOnce]
    expansion: online
    snapshots: true
    clone: csi-clone
    encryption: luks
    faults: []
    noise: [provision-retry, snapshot-slow]
  - name: lab-nfs
    provisioner: nfs.csi.lab.io
    default: true
    defaultVirt: false
    volumeBindingMode: Immediate
    modes:
      Filesystem: [ReadWriteOnce, ReadWriteMany]
    expansion: offline
    snapshots: false
    clone: copy
    encryption: none
    faults: []
    noise: [import-retry, resize-retry]
  - name: lab-local
    provisioner: local.csi.lab.io
    volumeBindingMode: WaitForFirstConsumer
    modes:
      Filesystem: [ReadWriteOnce]
    expansion: none
    snapshots: false
    clone: copy
    encryption: none
    faults: []
  - name: lab-slow
    provisioner: slow.csi.lab.io
    volumeBindingMode: Immediate
    modes:
      Block: [ReadWriteOnce]
      Filesystem: [ReadWriteOnce]
    expansion: online
    snapshots: true
    clone: snapshot
    encryption: none
    limits: {iops: 400, bandwidthMiBs: 40}
    faults: []
    noise: [attach-slow, schedule-backoff]
"""


def load_drivers(path: Path | None) -> list[DriverProfile]:
    """The drivers of a profile file, or the built-in defaults when `path` is None."""
    return parse_drivers(read_profile_yaml(path), str(path or "<built-in>"))


def read_profile_yaml(path: Path | None) -> Any:
    """The parsed YAML of a driver file (the built-in one when `path` is None)."""
    if path is None:
        return yaml.safe_load(DEFAULT_DRIVERS_YAML)
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise DriverProfileError(f"{path}: cannot read driver file: {exc.strerror}") from exc
    try:
        return parse_yaml(text)
    except YamlSyntaxError as exc:
        raise DriverProfileError(f"{path}: {exc}") from None


def parse_drivers(data: Any, source: str = "<text>") -> list[DriverProfile]:
    """The `drivers` list of a driver file; the optional `cluster` section is parsed by
    suite.lab.clusterprofile, so it is only allowed here, not read."""
    if not isinstance(data, dict) or "drivers" not in data \
            or not set(data) <= set(TOP_LEVEL_KEYS):
        keys = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise DriverProfileError(f"{source}: expected top-level key 'drivers' (and optionally "
                                 f"'cluster'), got {keys}")
    items = data["drivers"]
    if not isinstance(items, list) or not items:
        raise DriverProfileError(f"{source}: drivers: expected a non-empty list")
    with driver_file_errors():
        drivers = [_driver(item, f"drivers[{i}]") for i, item in enumerate(items)]
    _check_unique(drivers)
    return drivers


def _check_unique(drivers: list[DriverProfile]) -> None:
    seen: dict[str, int] = {}
    for i, driver in enumerate(drivers):
        if driver.name in seen:
            raise DriverProfileError(
                f"drivers[{i}].name: duplicate StorageClass name {driver.name!r} "
                f"(also drivers[{seen[driver.name]}])")
        seen[driver.name] = i
    if sum(d.default for d in drivers) > 1 or sum(d.default_virt for d in drivers) > 1:
        raise DriverProfileError("drivers: at most one driver may set default: true "
                                 "and at most one defaultVirt: true")


def _driver(item: Any, path: str) -> DriverProfile:
    if not isinstance(item, dict):
        raise DriverProfileError(f"{path}: expected a mapping, got {type(item).__name__}")
    check_keys(item, _KEYS, path, UNKNOWN_KEY)
    require_keys(item, _REQUIRED, path, "required")
    kind = _choice(item.get("type", "csi"), TYPES, f"{path}.type")
    return DriverProfile(
        name=_dns_name(item["name"], f"{path}.name"),
        provisioner=_provisioner(item["provisioner"], kind, f"{path}.provisioner"),
        type=kind,
        modes=_modes(item["modes"], f"{path}.modes"),
        default=_bool(item.get("default", False), f"{path}.default"),
        default_virt=_bool(item.get("defaultVirt", False), f"{path}.defaultVirt"),
        volume_binding_mode=_choice(item.get("volumeBindingMode", "Immediate"),
                                    BINDING_MODES, f"{path}.volumeBindingMode"),
        expansion=_choice(item.get("expansion", "none"), EXPANSIONS, f"{path}.expansion"),
        snapshots=_bool(item.get("snapshots", False), f"{path}.snapshots"),
        clone=_choice(item.get("clone", "copy"), CLONES, f"{path}.clone"),
        encryption=_choice(item.get("encryption", "none"), ENCRYPTIONS, f"{path}.encryption"),
        limits=_limits(item.get("limits"), f"{path}.limits"),
        faults=_names(item.get("faults", []), FAULTS, "fault", f"{path}.faults"),
        noise=_names(item.get("noise", []), NOISES, "noise", f"{path}.noise"),
    )


def _provisioner(value: Any, kind: str, path: str) -> str:
    """A CSI driver name; a non-CSI class may also name an in-tree style `domain/name`."""
    if kind != "csi" and isinstance(value, str) and value.count("/") == 1:
        domain, name = value.split("/")
        _dns_name(domain, path)
        _dns_name(name, path)
        return value
    return _dns_name(value, path)


def _dns_name(value: Any, path: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", value) \
            or len(value) > 253:
        raise DriverProfileError(f"{path}: {value!r} is not a valid lower-case DNS name")
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise DriverProfileError(f"{path}: expected true or false, got {value!r}")
    return value


def _choice(value: Any, allowed: tuple[str, ...], path: str) -> str:
    if value not in allowed:
        raise DriverProfileError(f"{path}: {value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _modes(value: Any, path: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict) or not value:
        raise DriverProfileError(f"{path}: expected a mapping of volume mode to access modes")
    modes: dict[str, tuple[str, ...]] = {}
    for mode, access in value.items():
        if mode not in VOLUME_MODES:
            raise DriverProfileError(f"{path}.{mode}: unknown volume mode; "
                                     "expected Block or Filesystem")
        if not isinstance(access, list) or not access:
            raise DriverProfileError(f"{path}.{mode}: expected a non-empty list of access modes")
        for i, one in enumerate(access):
            _choice(one, ACCESS_MODES, f"{path}.{mode}[{i}]")
        modes[mode] = tuple(dict.fromkeys(access))
    return modes


def _limits(value: Any, path: str) -> dict[str, int] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise DriverProfileError(f"{path}: expected a mapping with iops and/or bandwidthMiBs")
    check_keys(value, LIMIT_KEYS, path, "unknown key; expected iops or bandwidthMiBs")
    for key, number in value.items():
        if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
            raise DriverProfileError(f"{path}.{key}: expected a positive integer, got {number!r}")
    return dict(value)


def _names(value: Any, allowed: tuple[str, ...], what: str, path: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise DriverProfileError(f"{path}: expected a list of {what} names")
    for i, name in enumerate(value):
        _choice(name, allowed, f"{path}[{i}]")
    return tuple(dict.fromkeys(value))
