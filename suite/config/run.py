"""RunConfig: the validated, immutable settings of one run, built once from the options.

Everything a user can get wrong in options or the profile is caught here, before any
cluster is touched, and reported as one ``ConfigError`` line.
"""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from suite.config.errors import ConfigError
from suite.config.options import default_kubeconfig
from suite.config.profile import RunProfile, load_profile
from suite.lab.extras import lab_extras_problem


@dataclass(frozen=True)
class RunConfig:
    lab: bool
    lab_drivers: Path | None
    kubeconfig: str | None  # None with lab=True: the lab writes its own
    context: str | None
    storage_classes: tuple[str, ...]  # globs; empty means every class
    profile: RunProfile
    report_dir: Path
    run_id: str
    keep: bool
    namespace: str | None = None  # --namespace: an existing namespace to run in
    lab_guests: str | None = None  # --lab-guests: process | qemu (else the driver file's)


def new_run_id(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"kvs-{stamp}-{secrets.token_hex(2)}"


def _drivers_path(value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    if not path.is_file():
        raise ConfigError(f"--lab-drivers: file {value} not found")
    return path


def _kubeconfig(option: Any, lab: bool) -> str | None:
    if lab:
        problem = lab_extras_problem()
        if problem:
            raise ConfigError(f"--lab: {problem}")
        if option.kvs_kubeconfig or option.kvs_context:
            raise ConfigError("--lab starts its own cluster: drop --kubeconfig/--context, "
                              "or drop --lab to test the cluster they name")
        return None
    return option.kvs_kubeconfig or default_kubeconfig()


def _profile(option: Any, lab: bool) -> RunProfile:
    profile = load_profile(option.kvs_profile)
    if lab:  # the lab's node view is ours to read: node checks are always allowed
        nodes = replace(profile.node_checks, privileged_pods=True)
        profile = replace(profile, node_checks=nodes)
    return profile


def _report_dir(value: str) -> Path:
    """The report folder, checked writable before any cluster is touched."""
    path = Path(value)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".kvs-write-test-"):
            pass
    except OSError as exc:
        raise ConfigError(f"--report-dir {value} cannot be written: "
                          f"{exc.strerror or exc}") from None
    return path


def build_run_config(option: Any) -> RunConfig:
    """From pytest's ``config.option`` (or an argparse namespace) to a RunConfig."""
    lab = bool(option.kvs_lab or option.kvs_lab_drivers)
    return RunConfig(
        lab=lab,
        lab_drivers=_drivers_path(option.kvs_lab_drivers),
        kubeconfig=_kubeconfig(option, lab),
        context=option.kvs_context,
        storage_classes=tuple(option.kvs_storage_classes or ()),
        profile=_profile(option, lab),
        report_dir=_report_dir(option.kvs_report_dir),
        run_id=option.kvs_run_id or new_run_id(),
        keep=bool(option.kvs_keep),
        namespace=getattr(option, "kvs_namespace", None),
        lab_guests=getattr(option, "kvs_lab_guests", None),
    )


@dataclass(frozen=True)
class SweepConfig:
    """What ``--sweep`` / ``kvstorage sweep`` needs: an existing cluster, maybe one run."""

    kubeconfig: str
    context: str | None
    run_id: str | None  # None: every run's leftovers


def build_sweep_config(option: Any) -> SweepConfig:
    """From the same options as a run; a sweep cleans an existing cluster, never a lab."""
    if option.kvs_lab or option.kvs_lab_drivers:
        raise ConfigError("--sweep cleans an existing cluster: give --kubeconfig, not --lab")
    return SweepConfig(option.kvs_kubeconfig or default_kubeconfig(), option.kvs_context,
                       option.kvs_run_id)


def select_classes(available: list[str], globs: tuple[str, ...]) -> list[str]:
    """Classes matching the globs (all when none); a glob matching nothing is an error."""
    from fnmatch import fnmatchcase

    if not globs:
        return list(available)
    chosen: list[str] = []
    for pattern in globs:
        matched = [name for name in available if fnmatchcase(name, pattern)]
        if not matched:
            has = ", ".join(available) or "none"
            raise ConfigError(f"StorageClass {pattern!r} not found; the cluster has: {has}")
        chosen += [m for m in matched if m not in chosen]
    return [name for name in available if name in chosen]
