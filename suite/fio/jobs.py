"""Strict reading of job sets from profiles, and the public face of the fio seam.

Profiles are typed by people; a typo like `iodpeth` silently ignored would
measure the wrong thing for hours, so every unknown key or bad value is an
error naming the file and the field path (`suite/profiles/quick.yaml:
fio.jobs[2].iodpeth: unknown key`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from suite.fio.errors import JobSetError
from suite.fio.job import IOENGINES, RW_MODES, SYNC_ENGINES, FioJob, parse_size
from suite.fio.jobfile import render_job_file
from suite.fio.jobsets import JOB_SETS
from suite.strictyaml import StrictYamlError, check_keys

__all__ = ["FioJob", "FioSettings", "parse_fio_section", "parse_job_set", "render_job_file"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_RESERVED = {"global", "prefill"}
_SECTION_KEYS = {"jobSet", "jobs", "repeats", "sizeMiB"}


def _int_in(low: int, high: int) -> Callable[[object], int]:
    def convert(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"expected a whole number from {low} to {high}, got {value!r}")
        return value
    return convert


def _one_of(choices: tuple[str, ...]) -> Callable[[object], str]:
    def convert(value: object) -> str:
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {value!r}")
        return str(value)
    return convert


def _name(value: object) -> str:
    if not isinstance(value, str) or not _NAME.match(value) or value in _RESERVED:
        raise ValueError(f"expected a job name of letters, digits, '-', '_' or '.', got {value!r}")
    return value


def _block_size(value: object) -> int:
    size = parse_size(value)
    if size <= 0:
        raise ValueError(f"must be a positive size, got {value!r}")
    return size


def _bytes(value: object) -> int:
    size = parse_size(value)
    if size < 0:
        raise ValueError(f"must not be negative, got {value!r}")
    return size


_FIELDS: dict[str, Callable[[object], Any]] = {
    "name": _name, "rw": _one_of(RW_MODES), "bs": _block_size,
    "iodepth": _int_in(1, 1024), "numjobs": _int_in(1, 64), "rwmixread": _int_in(0, 100),
    "runtime_s": _int_in(1, 86400), "ramp_s": _int_in(0, 3600), "fdatasync": _int_in(0, 1_000_000),
    "ioengine": _one_of(IOENGINES), "size": _bytes, "offset": _bytes,
    "direct": _int_in(0, 1),
}


@dataclass(frozen=True)
class FioSettings:
    """A profile's `fio` section: the jobs, how often to repeat them, the test area."""

    jobs: list[FioJob]
    repeats: int = 1
    size_bytes: int | None = None


def _fail(path: str, where: str, message: str) -> JobSetError:
    return JobSetError(f"{path}: {where}: {message}")


def _check_keys(data: dict[str, Any], known: Collection[str], path: str, where: str) -> None:
    """The shared strict-YAML key rule, in this file's wording."""
    try:
        check_keys(data, known, where, "unknown key (known: {allowed})")
    except StrictYamlError as exc:
        raise JobSetError(f"{path}: {exc}") from None


def _parse_job(entry: object, path: str, where: str) -> FioJob:
    if not isinstance(entry, dict):
        raise _fail(path, where, f"expected a mapping of job options, got {type(entry).__name__}")
    values: dict[str, Any] = {}
    _check_keys(entry, _FIELDS, path, where)
    for key, raw in entry.items():
        try:
            values[key] = _FIELDS[key](raw)
        except ValueError as exc:
            raise _fail(path, f"{where}.{key}", str(exc)) from None
    for key in ("name", "rw", "bs"):
        if key not in values:
            raise _fail(path, f"{where}.{key}", "required key is missing")
    _check_combination(values, path, where)
    return FioJob(**values)


def _check_combination(values: dict[str, Any], path: str, where: str) -> None:
    direct = values.get("direct", 1)
    if direct and values["bs"] % 512:
        # the kernel refuses unaligned direct I/O
        raise _fail(path, f"{where}.bs", "must be a positive multiple of 512 bytes (direct "
                    f"I/O), got {values['bs']!r}; only an fdatasync'd write job may use "
                    "direct: 0")
    if not direct and (values["rw"] not in ("write", "randwrite")
                       or values.get("fdatasync") != 1):
        # buffered I/O would time the guest's page cache, unless every write is
        # followed by an fdatasync that makes it reach the storage (etcd's WAL)
        raise _fail(path, f"{where}.direct", "0 is only allowed for write jobs with "
                    "fdatasync: 1")
    mixed = values["rw"] in ("rw", "randrw")
    if "rwmixread" in values and not mixed:
        raise _fail(path, f"{where}.rwmixread", "only applies to rw: rw or randrw")
    if values.get("ioengine") in SYNC_ENGINES and values.get("iodepth", 1) != 1:
        raise _fail(path, f"{where}.iodepth", "must be 1 with a synchronous ioengine")


def _parse_jobs(entries: object, path: str, where: str) -> list[FioJob]:
    if not isinstance(entries, list) or not entries:
        raise _fail(path, where, "expected a non-empty list of jobs")
    jobs = [_parse_job(entry, path, f"{where}[{i}]") for i, entry in enumerate(entries)]
    seen: set[str] = set()
    for i, job in enumerate(jobs):
        if job.name in seen:
            raise _fail(path, f"{where}[{i}].name", f"duplicate job name {job.name!r}")
        seen.add(job.name)
    return jobs


def _builtin(name: object, path: str, where: str) -> dict[str, Any]:
    if not isinstance(name, str) or name not in JOB_SETS:
        known = ", ".join(JOB_SETS)
        raise _fail(path, where, f"unknown job set {name!r} (known: {known})")
    return JOB_SETS[name]


def parse_fio_section(data: object, path: str, where: str = "fio") -> FioSettings:
    """Validate a profile's `fio` value: a job-set name, a list of jobs, or a mapping.

    The mapping form takes `jobSet` (a built-in set to start from, default
    `quick`), `jobs` (replaces the set's jobs), `repeats` and `sizeMiB`.
    """
    if data is None:
        data = "quick"
    if isinstance(data, str):
        base = _builtin(data, path, where)
        return FioSettings(_parse_jobs(base["jobs"], path, f"{where}.jobs"), base["repeats"])
    if isinstance(data, list):
        return FioSettings(_parse_jobs(data, path, f"{where}.jobs"))
    if not isinstance(data, dict):
        raise _fail(path, where, "expected a job-set name, a list of jobs or a mapping")
    return _parse_mapping(data, path, where)


def _field(data: dict[str, Any], key: str, convert: Callable[[object], Any], default: Any,
           path: str, where: str) -> Any:
    if key not in data:
        return default
    try:
        return convert(data[key])
    except ValueError as exc:
        raise _fail(path, f"{where}.{key}", str(exc)) from None


def _parse_mapping(data: dict[str, Any], path: str, where: str) -> FioSettings:
    _check_keys(data, sorted(_SECTION_KEYS), path, where)
    base = _builtin(data.get("jobSet", "quick"), path, f"{where}.jobSet")
    jobs = _parse_jobs(data.get("jobs", base["jobs"]), path, f"{where}.jobs")
    repeats = _field(data, "repeats", _int_in(1, 100), base["repeats"], path, where)
    size_mib = _field(data, "sizeMiB", _int_in(1, 16 * 1024 * 1024), None, path, where)
    size = None if size_mib is None else size_mib * 1024**2
    return FioSettings(jobs, repeats, size)


def parse_job_set(data: object, path: str) -> list[FioJob]:
    """The jobs of a profile's `fio` value (see `parse_fio_section` for the shapes)."""
    return parse_fio_section(data, path).jobs
