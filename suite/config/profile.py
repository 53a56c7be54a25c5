"""Run profiles: which families run, sizes, guest image, timeouts, fio jobs.

A run profile is a built-in name (a YAML file shipped in the package's ``profiles/``
folder, read as a package resource so an installed wheel has them too) or any YAML path,
loaded strictly: an unknown key or a wrong type is an error naming its field path.
Families read the result as frozen dataclasses, e.g. ``ctx.profile.timeouts.boot_s``,
``ctx.profile.sizes.disk_bytes`` or ``ctx.profile.fio`` (a ``suite.fio.jobs.FioSettings``:
jobs, repeats, size_bytes).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from suite.capabilities import FAMILY_CAPABILITIES
from suite.config import strict
from suite.config.errors import ConfigError
from suite.fio.errors import JobSetError
from suite.fio.jobs import FioSettings, parse_fio_section
from suite.quantity import parse_quantity

# The built-in run profiles (quick, full, assessment, nightly), shipped inside the package.
RUN_PROFILES: Traversable = files("suite").joinpath("profiles")


def _size(value: Any, path: str) -> int:
    size = parse_quantity(value)
    if size <= 0:
        raise ValueError(f"expected a positive size, got {value!r}")
    return size


def _families(value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("expected a non-empty list of families")
    for i, name in enumerate(value):
        if name not in FAMILY_CAPABILITIES:
            raise ConfigError(f"{path}[{i}]: unknown family {name!r} "
                              f"(known: {', '.join(FAMILY_CAPABILITIES)})")
    return tuple(value)


def _size_field(key: str, default: int) -> Any:
    return field(default=default, metadata={"yaml": key, "parse": _size})


@dataclass(frozen=True)
class Guest:
    """The VM the checks boot and its login. `packages` are installed by cloud-init at
    boot (fio and, on Fedora, its libaio engine); air-gapped clusters cannot install
    them: name an image that already has fio and set `packages: []`."""

    image: str = "quay.io/containerdisks/fedora:41"
    user: str = "fedora"
    password: str = "kvstorage-probe"
    memory: str = "1Gi"
    cpu_cores: int = 1
    packages: tuple[str, ...] = ("fio", "fio-engine-libaio")


@dataclass(frozen=True)
class Sizes:
    """Disk sizes in bytes (YAML takes quantities like ``1Gi``)."""

    disk_bytes: int = _size_field("disk", 1 << 30)
    expanded_disk_bytes: int = _size_field("expanded_disk", 2 << 30)
    perf_disk_bytes: int = _size_field("perf_disk", 2 << 30)


@dataclass(frozen=True)
class Timeouts:
    """Seconds each kind of wait may take before the cell is judged on it."""

    bind_s: float = 300.0
    boot_s: float = 600.0
    login_s: float = 300.0
    command_s: float = 120.0
    expand_s: float = 300.0
    # once the PVC and the VMI's volumeStatus show the new size, the guest has this long
    expand_grace_s: float = 60.0
    snapshot_s: float = 300.0
    restore_s: float = 600.0
    clone_s: float = 600.0
    migration_s: float = 600.0
    delete_s: float = 300.0
    fio_s: float = 1800.0


@dataclass(frozen=True)
class NodeChecks:
    """Node-level steps need a privileged pod: opt-in on real clusters."""

    privileged_pods: bool = False
    # Any image with sh, grep, dd and head works; air-gapped clusters point this at a mirror.
    image: str = "registry.access.redhat.com/ubi9/ubi:latest"


def _count(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise ValueError(f"expected a whole number from 1 to 100, got {value!r}")
    return value


@dataclass(frozen=True)
class Scale:
    """Assessment at scale (suite.checks.bootstorm, parallel fio): how many VMs boot at
    once from clones of one golden disk, how much of that disk they read back, and in
    how many VMs of a class the fio job set runs at the same time."""

    bootstorm_vms: int = field(default=5, metadata={"parse": _count})
    bootstorm_image_bytes: int = _size_field("bootstorm_image", 16 << 20)
    fio_vms: int = field(default=1, metadata={"parse": _count})


@dataclass(frozen=True)
class Regression:
    """How a run is compared with its baseline (touchstone's rule; see suite.history.stats).

    A metric is ``regressed`` only when the Mann-Whitney U test over the repeats is
    significant at ``significance``, the median moved beyond its threshold (a fraction)
    in the bad direction, and neither side's spread (coefficient of variation) exceeds
    ``max_spread``; fewer than ``min_samples`` repeats a side is not enough to decide.
    """

    significance: float = 0.05
    min_samples: int = 3
    max_spread: float = 0.2
    iops: float = 0.05
    bandwidth: float = 0.05
    latency: float = 0.10  # p50
    tail_latency: float = 0.30  # p99: the tail moves more on a healthy shared cluster
    min_tail_ios: int = 1000  # a p99 from fewer I/Os a repeat rests on a handful of them


@dataclass(frozen=True)
class StorageMigration:
    """migration.storage (suite.checks.storage_migration): the class a VM's disk moves
    from; empty: the cluster's default virt class, else its default class."""

    from_class: str = field(default="", metadata={"yaml": "from"})


@dataclass(frozen=True)
class RunProfile:
    """A run profile (what to check and how long to wait), not the lab's driver file nor
    CDI's StorageProfile."""

    name: str
    description: str = ""
    families: tuple[str, ...] = field(
        default=tuple(FAMILY_CAPABILITIES), metadata={"parse": _families})
    guest: Guest = field(default_factory=Guest)
    sizes: Sizes = field(default_factory=Sizes)
    timeouts: Timeouts = field(default_factory=Timeouts)
    # The fio section's own format and validation belong to suite.fio.jobs.
    fio: FioSettings = field(default_factory=lambda: parse_fio_section(None, "<default>"),
                             metadata={"internal": True})
    node_checks: NodeChecks = field(default_factory=NodeChecks)
    scale: Scale = field(default_factory=Scale)
    storage_migration: StorageMigration = field(default_factory=StorageMigration)
    # Workloads the scorecard judges: built-in names (profiles/workloads/), files or
    # folders of workload YAML; empty: every built-in workload.
    workloads: tuple[str, ...] = ()
    reuse_vms: bool = True
    regression: Regression = field(default_factory=Regression)
    source: str = field(default="", metadata={"internal": True})  # where it was read from


def resolve_profile_path(name_or_path: str,
                         profiles_dir: Traversable = RUN_PROFILES) -> Traversable:
    """A built-in profile name (``quick``) or a file path; errors list the known names."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.parent != Path("."):
        if candidate.is_file():
            return candidate
        raise ConfigError(f"profile file {name_or_path} not found")
    named = profiles_dir.joinpath(f"{name_or_path}.yaml")
    if named.is_file():
        return named
    known = sorted(p.name.removesuffix(".yaml") for p in profiles_dir.iterdir()
                   if p.name.endswith(".yaml"))
    raise ConfigError(f"profile {name_or_path!r} not found; known profiles: {', '.join(known)}")


def load_profile(name_or_path: str, profiles_dir: Traversable = RUN_PROFILES) -> RunProfile:
    path = resolve_profile_path(name_or_path, profiles_dir)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"profile {path}:{where} is not valid YAML") from None
    return parse_profile(data, str(path))


def parse_profile(data: Any, source: str) -> RunProfile:
    """Validate profile data; errors read ``profile <source>: <field.path>: <problem>``."""
    fio_data = data.get("fio") if isinstance(data, dict) else None
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k != "fio"}
    try:
        profile = strict.load(RunProfile, data, "")
        fio = parse_fio_section(fio_data, f"profile {source}", "fio")
    except ConfigError as exc:
        raise ConfigError(f"profile {source}: {exc}") from None
    except JobSetError as exc:  # already names the profile and the field path
        raise ConfigError(str(exc)) from None
    return replace(profile, source=source, fio=fio)
