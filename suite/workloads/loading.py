"""Reading workload profiles strictly: a typo is an error naming the file and the field.

A misspelt ``fial:`` silently ignored would call a class fit that is not, so every
unknown key, wrong type, unknown capability id or metric, and a threshold pair that
contradicts its direction is a one-line ``ConfigError``:
``workload suite/profiles/workloads/x.yaml: figures[1].direction: expected higher or lower``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from suite.capabilities import CAPABILITIES
from suite.config.errors import ConfigError
from suite.fio.job import parse_size
from suite.strictyaml import StrictYamlError, check_keys
from suite.workloads.model import (
    BOOTSTORM_FIGURES,
    BOOTSTORM_STATS,
    FIO_LATENCIES,
    FIO_RATES,
    FIO_SUMS,
    JOB_KEYS,
    PERCENTILES,
    Figure,
    Workload,
)

# The built-in workloads ship inside the package (an installed wheel has them too).
WORKLOADS_DIR = Path(str(files("suite").joinpath("profiles").joinpath("workloads")))
_TOP = ("name", "description", "needs", "figures")
_FIGURE = ("label", "source", "metric", "direction", "warn", "fail", "unit", "job")


class _Bad(ValueError):
    """`<where>: <message>`; one argument is a whole message already in that shape."""

    def __init__(self, where: str, message: str | None = None) -> None:
        super().__init__(where if message is None else f"{where}: {message}")


def builtin_paths(folder: Path = WORKLOADS_DIR) -> list[Path]:
    return sorted(folder.glob("*.yaml"))


def load_builtin(folder: Path = WORKLOADS_DIR) -> list[Workload]:
    return [load_workload(path) for path in builtin_paths(folder)]


def load_workloads(names_or_paths: list[str], folder: Path = WORKLOADS_DIR) -> list[Workload]:
    """Built-in names (``etcd-like``), files, or folders of files; empty: the built-ins."""
    if not names_or_paths:
        return load_builtin(folder)
    found: list[Workload] = []
    for item in names_or_paths:
        path = Path(item)
        if path.is_dir():
            found += load_builtin(path)
        elif path.suffix in (".yaml", ".yml") or path.parent != Path("."):
            if not path.is_file():
                raise ConfigError(f"workload file {item} not found")
            found.append(load_workload(path))
        elif (folder / f"{item}.yaml").is_file():
            found.append(load_workload(folder / f"{item}.yaml"))
        else:
            known = ", ".join(p.stem for p in builtin_paths(folder))
            raise ConfigError(f"workload {item!r} not found; built-in workloads: {known}")
    return found


def load_workload(path: Path) -> Workload:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"workload {path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"workload {path}:{where} is not valid YAML") from None
    return parse_workload(data, str(path))


def parse_workload(data: Any, source: str) -> Workload:
    try:
        return _workload(data, source)
    except _Bad as exc:
        raise ConfigError(f"workload {source}: {exc}") from None


def _keys(data: Any, allowed: tuple[str, ...], where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _Bad(where or "<root>", "expected a mapping")
    try:
        check_keys(data, allowed, where, "unknown key (allowed: {allowed})")
    except StrictYamlError as exc:
        raise _Bad(str(exc)) from None
    return data


def _text(data: dict[str, Any], key: str, where: str, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"{where}{key}", "expected a non-empty string"
                   if key in data else "required key is missing")
    return value


def _workload(data: Any, source: str) -> Workload:
    data = _keys(data, _TOP, "")
    needs = data.get("needs", [])
    if not isinstance(needs, list):
        raise _Bad("needs", "expected a list of capability ids")
    for i, cap in enumerate(needs):
        if cap not in CAPABILITIES:
            raise _Bad(f"needs[{i}]", f"unknown capability id {cap!r}")
    figures = data.get("figures", [])
    if not isinstance(figures, list):
        raise _Bad("figures", "expected a list of figures")
    if not needs and not figures:
        raise _Bad("<root>", "a workload needs at least one capability or figure")
    return Workload(name=_text(data, "name", ""), description=_text(data, "description", "",
                                                                    required=False),
                    needs=tuple(needs), source=source,
                    figures=tuple(_figure(f, f"figures[{i}]") for i, f in enumerate(figures)))


def _number(data: dict[str, Any], key: str, where: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _Bad(f"{where}.{key}", f"expected a non-negative number, got {value!r}"
                   if key in data else "required key is missing")
    return float(value)


def _figure(data: Any, where: str) -> Figure:
    data = _keys(data, _FIGURE, where)
    source = data.get("source")
    if source not in ("fio", "bootstorm"):
        raise _Bad(f"{where}.source", f"expected fio or bootstorm, got {source!r}")
    metric = _text(data, "metric", f"{where}.")
    _check_metric(source, metric, f"{where}.metric")
    direction = data.get("direction")
    if direction not in ("higher", "lower"):
        raise _Bad(f"{where}.direction", f"expected higher or lower, got {direction!r}")
    warn, fail = _number(data, "warn", where), _number(data, "fail", where)
    if (direction == "higher" and fail > warn) or (direction == "lower" and fail < warn):
        better = "above" if direction == "higher" else "below"
        raise _Bad(f"{where}.fail", f"with direction {direction} the warn threshold must be "
                   f"{better} or at the fail threshold (warn {warn:g}, fail {fail:g})")
    job = _job(data.get("job", {}), f"{where}.job") if source == "fio" else {}
    if source == "bootstorm" and "job" in data:
        raise _Bad(f"{where}.job", "only fio figures match a job")
    return Figure(label=_text(data, "label", f"{where}.", required=False) or metric,
                  source=source, metric=metric, direction=direction, warn=warn, fail=fail,
                  unit=_text(data, "unit", f"{where}.", required=False), job=job)


def _check_metric(source: str, metric: str, where: str) -> None:
    if source == "bootstorm":
        name, _, stat = metric.partition(".")
        if name not in BOOTSTORM_FIGURES or stat not in BOOTSTORM_STATS:
            raise _Bad(where, f"unknown boot storm metric {metric!r} (one of "
                       f"{'/'.join(BOOTSTORM_FIGURES)} . {'/'.join(BOOTSTORM_STATS)})")
        return
    if metric in FIO_SUMS or metric in FIO_RATES:
        return
    name, _, stat = metric.partition(".")
    if name not in FIO_LATENCIES or stat not in PERCENTILES:
        raise _Bad(where, f"unknown fio metric {metric!r} (rates: "
                   f"{', '.join([*FIO_SUMS, *FIO_RATES])}; latencies: "
                   f"{'/'.join(FIO_LATENCIES)} . {'/'.join(PERCENTILES)})")


def _job(data: Any, where: str) -> dict[str, object]:
    data = _keys(data, JOB_KEYS, where)
    out: dict[str, object] = {}
    for key, value in data.items():
        if key == "bs":
            try:
                out[key] = parse_size(value)
            except ValueError as exc:
                raise _Bad(f"{where}.bs", str(exc)) from None
        elif key in ("rw", "ioengine"):
            if not isinstance(value, str):
                raise _Bad(f"{where}.{key}", f"expected a string, got {value!r}")
            out[key] = value
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _Bad(f"{where}.{key}", f"expected a whole number, got {value!r}")
        else:
            out[key] = value
    return out
