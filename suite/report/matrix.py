"""The capability matrix: one model built from Outcomes, rendered by every writer.

``build_matrix`` produces the matrix.json dict (docs/matrix.schema.json); the CSV and the
Markdown are views of its cells through one pandas frame, so all formats agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from suite.capabilities import CAPABILITIES, Outcome
from suite.report.declared import declared, describe

SCHEMA_ID = "kubevirt-storage-matrix/v1"
CSV_COLUMNS = ["storageClass", "provisioner", "capability", "verdict", "declared",
               "declaredVsObserved", "reason", "seconds", "evidence"]


@dataclass
class RunInfo:
    id: str
    started: str
    finished: str
    profile: str
    suite_version: str
    cluster: dict[str, str]
    interrupted: bool = False


@dataclass
class ClassResult:
    name: str
    facts: dict[str, Any]
    outcomes: dict[str, Outcome]
    performance: list[dict[str, Any]] = field(default_factory=list)


def _cell(outcome: Outcome, facts: dict[str, Any]) -> dict[str, Any]:
    cell = outcome.to_dict()
    cell["declared"] = declared(outcome.capability, facts)
    return cell


def _ordered(outcomes: dict[str, Outcome]) -> list[str]:
    known = [c for c in CAPABILITIES if c in outcomes]
    return known + sorted(c for c in outcomes if c not in CAPABILITIES)


def class_entry(result: ClassResult) -> dict[str, Any]:
    return {
        "name": result.name,
        "provisioner": result.facts.get("provisioner", ""),
        "facts": result.facts,
        "capabilities": {cap: _cell(result.outcomes[cap], result.facts)
                         for cap in _ordered(result.outcomes)},
        "performance": {"fio": list(result.performance)},
    }


def build_matrix(run: RunInfo, classes: list[ClassResult]) -> dict[str, Any]:
    """The matrix.json document."""
    return {
        "schema": SCHEMA_ID,
        "run": {
            "id": run.id, "started": run.started, "finished": run.finished,
            "profile": run.profile, "suiteVersion": run.suite_version,
            "interrupted": run.interrupted,
            "cluster": dict(run.cluster),
        },
        "storageClasses": [class_entry(r) for r in classes],
    }


def cells_frame(matrix: dict[str, Any]) -> pd.DataFrame:
    """One row per (StorageClass, capability), in matrix order."""
    rows = []
    for sc in matrix["storageClasses"]:
        for cap, cell in sc["capabilities"].items():
            rows.append({
                "storageClass": sc["name"], "provisioner": sc["provisioner"],
                "capability": cap, "verdict": cell["verdict"],
                "declared": _declared_text(cell.get("declared")),
                "declaredVsObserved": describe(cell.get("declared"), cell["verdict"]),
                "reason": cell["reason"], "seconds": cell["seconds"],
                "evidence": json.dumps(cell["evidence"], sort_keys=True, default=str),
            })
    return pd.DataFrame(rows, columns=CSV_COLUMNS)


def _declared_text(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "unknown"}[value]


def verdict_grid(matrix: dict[str, Any]) -> pd.DataFrame:
    """Capabilities down, classes across, verdicts in the cells (missing: empty)."""
    frame = cells_frame(matrix)
    if frame.empty:
        return pd.DataFrame()
    grid = frame.pivot(index="capability", columns="storageClass", values="verdict")
    order = [c for c in CAPABILITIES if c in grid.index]
    order += sorted(c for c in grid.index if c not in CAPABILITIES)
    names = [sc["name"] for sc in matrix["storageClasses"]]
    return grid.reindex(index=order, columns=names).fillna("")
