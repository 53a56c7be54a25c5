"""The JSON Schema of matrix.json (``kubevirt-storage-matrix/v1``) and its validator.

Outside scripts and baselines key on this document, so the suite validates every
matrix it writes: a schema violation is a suite bug and must not reach a user's file.
"""

from __future__ import annotations

from typing import Any

import jsonschema

from suite.checks.base import VERDICTS

_STR = {"type": "string"}
_NUM = {"type": "number", "minimum": 0}
_OPT_NUM = {"type": ["number", "null"]}

_CELL = {
    "type": "object",
    "required": ["verdict", "reason", "evidence", "seconds"],
    "properties": {
        "verdict": {"enum": list(VERDICTS)},
        "reason": {"type": "string", "minLength": 1},
        "evidence": {"type": "object"},
        "seconds": _NUM,
        "declared": {"type": ["boolean", "null"]},
    },
}

_LATENCY = {
    "type": "object",
    "required": ["p50", "p90", "p99", "p99.9", "max"],
    "properties": {k: _OPT_NUM for k in ("p50", "p90", "p99", "p99.9", "p99.99", "max")},
}

_FIO_ENTRY = {
    "type": "object",
    "required": ["job", "readIops", "writeIops", "readBwMiBs", "writeBwMiBs", "latencyUs"],
    "properties": {
        "job": _STR,
        "readIops": _OPT_NUM, "writeIops": _OPT_NUM,
        "readBwMiBs": _OPT_NUM, "writeBwMiBs": _OPT_NUM,
        "latencyUs": _LATENCY,
    },
}

_CLASS = {
    "type": "object",
    "required": ["name", "provisioner", "facts", "capabilities", "performance"],
    "properties": {
        "name": _STR,
        "provisioner": _STR,
        "facts": {"type": "object"},
        "capabilities": {"type": "object", "additionalProperties": _CELL},
        "performance": {
            "type": "object", "required": ["fio"],
            "properties": {"fio": {"type": "array", "items": _FIO_ENTRY}},
        },
    },
}

MATRIX_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "kubevirt-storage-matrix/v1",
    "type": "object",
    "required": ["schema", "run", "storageClasses"],
    "properties": {
        "schema": {"const": "kubevirt-storage-matrix/v1"},
        "run": {
            "type": "object",
            "required": ["id", "started", "finished", "profile", "suiteVersion", "cluster"],
            "properties": {
                "id": _STR, "started": _STR, "finished": _STR, "profile": _STR,
                "suiteVersion": _STR,
                "cluster": {
                    "type": "object",
                    "required": ["server", "kubernetesVersion", "kubevirtVersion", "cdiVersion"],
                    "properties": {k: _STR for k in (
                        "server", "kubernetesVersion", "kubevirtVersion", "cdiVersion")},
                },
            },
        },
        "storageClasses": {"type": "array", "items": _CLASS},
    },
}


# The workload scorecard (suite/report/scorecard.py), versioned on its own: matrix.json
# stays kubevirt-storage-matrix/v1 for readers that ignore it.
WORKLOADS_SCHEMA_ID = "kubevirt-storage-workloads/v1"
_FITNESS = {"enum": ["fit", "marginal", "unfit", "not-assessed"]}
_WORKLOAD_VERDICT = {
    "type": "object",
    "required": ["workload", "fitness", "reason", "decidedBy", "needs", "figures"],
    "properties": {"workload": _STR, "fitness": _FITNESS, "reason": _STR,
                   "decidedBy": {"type": ["object", "null"]},
                   "needs": {"type": "array", "items": {"type": "object", "properties": {
                       "capability": _STR, "fitness": _FITNESS}}},
                   "figures": {"type": "array", "items": {"type": "object", "properties": {
                       "label": _STR, "fitness": _FITNESS, "value": _OPT_NUM}}}},
}
_CLASS["properties"]["workloads"] = {"type": "object",  # type: ignore[index]
                                     "additionalProperties": _WORKLOAD_VERDICT}
MATRIX_SCHEMA["properties"]["workloads"] = {
    "type": "object", "required": ["schema", "definitions"],
    "properties": {"schema": {"const": WORKLOADS_SCHEMA_ID},
                   "definitions": {"type": "array", "items": {
                       "type": "object", "required": ["name", "needs", "figures"]}}},
}


class MatrixSchemaError(Exception):
    """matrix.json does not match the published schema."""


def validate_matrix(matrix: dict[str, Any]) -> None:
    """Raise ``MatrixSchemaError`` naming the first offending path."""
    validator = jsonschema.Draft202012Validator(MATRIX_SCHEMA)
    error = jsonschema.exceptions.best_match(validator.iter_errors(matrix))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "<root>"
        raise MatrixSchemaError(f"matrix.json at {where}: {error.message}")
