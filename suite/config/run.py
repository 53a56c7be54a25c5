"""RunConfig: the validated, immutable settings of one run, built once from the options.

Everything a user can get wrong in options or the profile is caught here, before any
cluster is touched, and reported as one ``ConfigError`` line.
"""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from suite.cluster.connect import default_kubeconfig
from suite.config.errors import ConfigError
from suite.config.profile import Profile, load_profile


@dataclass(frozen=True)
class RunConfig:
    lab: bool
    lab_drivers: Path | None
    kubeconfig: str | None  # None with lab=True: the lab writes its own
    context: str | None
    storage_classes: tuple[str, ...]  # globs; empty means every class
    profile: Profile
    report_dir: Path
    run_id: str
    keep: bool
    sweep: bool
    namespace: str | None = None  # --namespace: an existing namespace to run in


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
        if option.kvs_kubeconfig or option.kvs_context:
            raise ConfigError("--lab starts its own cluster: drop --kubeconfig/--context, "
                              "or drop --lab to test the cluster they name")
        return None
    return option.kvs_kubeconfig or default_kubeconfig()


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
        profile=load_profile(option.kvs_profile),
        report_dir=_report_dir(option.kvs_report_dir),
        run_id=option.kvs_run_id or new_run_id(),
        keep=bool(option.kvs_keep),
        sweep=bool(option.kvs_sweep),
        namespace=getattr(option, "kvs_namespace", None),
    )


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
