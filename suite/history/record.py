"""One run as the history keeps it: identity, fingerprints, cells and fio samples.

Built from what a run writes (the matrix.json document and the per-repeat fio rows), so
the same record comes from a live session, from a report folder kept as a CI artifact
(``matrix.json`` + ``fio.csv``) and from the store.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from suite.config.errors import ConfigError
from suite.history.stats import IOS, METRICS

CLUSTER_KEYS = ("kubernetesVersion", "kubevirtVersion", "cdiVersion")


@dataclass(frozen=True)
class Sample:
    storage_class: str
    job: str
    mode: str
    repeat: int
    metric: str
    value: float


@dataclass
class RunRecord:
    id: str
    started: str
    finished: str
    profile: str
    suite_version: str
    complete: bool
    cluster: dict[str, str]
    classes: dict[str, dict[str, str]]  # name -> {"provisioner", "paramsHash"}
    cells: dict[tuple[str, str], tuple[str, str]]  # (class, capability) -> (verdict, reason)
    samples: list[Sample] = field(default_factory=list)
    source: str = ""  # "store" or a folder, for messages

    def cluster_fingerprint(self) -> str:
        return " ".join(f"{k}={self.cluster.get(k, '?')}" for k in CLUSTER_KEYS)

    def values(self, storage_class: str, job: str, mode: str, metric: str) -> list[float]:
        return [s.value for s in self.samples if (s.storage_class, s.job, s.mode, s.metric)
                == (storage_class, job, mode, metric)]

    def series_keys(self) -> list[tuple[str, str, str, str]]:
        keys: dict[tuple[str, str, str, str], None] = {}
        for s in self.samples:
            keys[(s.storage_class, s.job, s.mode, s.metric)] = None
        return list(keys)


def params_hash(parameters: dict[str, Any]) -> str:
    """A short, order-independent hash of a StorageClass's (redacted) parameters."""
    text = json.dumps(parameters or {}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def samples_from_rows(rows: list[dict[str, Any]]) -> list[Sample]:
    """fio.csv rows (one per class x job x repeat) to one sample per metric."""
    out = []
    for row in rows:
        for metric in (*METRICS, IOS):
            value = row.get(metric)
            if value in (None, ""):
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            out.append(Sample(str(row.get("storageClass", "")), str(row.get("job", "")),
                              str(row.get("volumeMode") or "-"), int(row.get("repeat") or 1),
                              metric, number))
    return out


def from_matrix(matrix: dict[str, Any], fio_rows: list[dict[str, Any]],
                complete: bool = True, source: str = "") -> RunRecord:
    run = matrix.get("run") or {}
    classes, cells = {}, {}
    for sc in matrix.get("storageClasses") or []:
        facts = sc.get("facts") or {}
        classes[sc["name"]] = {"provisioner": str(sc.get("provisioner", "")),
                               "paramsHash": params_hash(facts.get("parameters") or {})}
        for cap, cell in (sc.get("capabilities") or {}).items():
            cells[(sc["name"], cap)] = (str(cell.get("verdict", "")), str(cell.get("reason", "")))
    return RunRecord(
        id=str(run.get("id", "")), started=str(run.get("started", "")),
        finished=str(run.get("finished", "")), profile=str(run.get("profile", "")),
        suite_version=str(run.get("suiteVersion", "")),
        complete=complete and not run.get("interrupted", False),
        cluster={k: str(v) for k, v in (run.get("cluster") or {}).items()},
        classes=classes, cells=cells, samples=samples_from_rows(fio_rows), source=source)


def from_report_dir(folder: Path) -> RunRecord:
    """A report folder (``matrix.json`` and, when fio ran, ``fio.csv``) as a record."""
    matrix_file = folder / "matrix.json"
    if not matrix_file.is_file():
        raise ConfigError(f"baseline folder {folder} has no matrix.json")
    try:
        matrix = json.loads(matrix_file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{matrix_file} is not readable JSON: {exc}") from None
    rows: list[dict[str, Any]] = []
    fio_file = folder / "fio.csv"
    if fio_file.is_file():
        with fio_file.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    return from_matrix(matrix, rows, source=str(folder))
