"""The kinds' OpenAPI schemas (suite/lab/data/schemas.json.gz, made by
scripts/extract_schemas.py): lookups for validation, strategic merge and CRDs.

One data file feeds request validation, the strategic-merge list keys, the CRD objects
and the /openapi documents, so they cannot disagree with each other.
"""

from __future__ import annotations

import gzip
import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import bad_request, invalid
from ..resources import ResourceType
from ..watchbus import clone
from .validation import Schema, Walker

log = logging.getLogger("suite.lab.api")

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "schemas.json.gz"
REF = "#/definitions/"


class SchemaBook:
    """Schemas by kind plus the shared definitions their `$ref`s point at."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.kinds: dict[str, Schema] = data.get("kinds", {})
        self.definitions: dict[str, Schema] = data.get("definitions", {})
        self.source: dict[str, Any] = data.get("source", {})

    @classmethod
    def load(cls, path: Path = DATA_FILE) -> SchemaBook:
        """One shared, read-only book per data file (labs in one process share it)."""
        return _load(path)

    # ------------------------------------------------------------- lookups
    def schema_for(self, resource: ResourceType) -> Schema | None:
        return self.kinds.get(f"{resource.api_version}/{resource.kind}")

    def resolve(self, schema: Schema) -> Schema:
        while True:
            if "$ref" in schema:
                schema = self.definitions.get(schema["$ref"].removeprefix(REF), {})
            elif len(schema.get("allOf") or ()) == 1 and "type" not in schema:
                schema = schema["allOf"][0]
            else:
                return schema

    # ---------------------------------------------------------- validation
    def validate(self, resource: ResourceType, obj: dict[str, Any], mode: str,
                 old: dict[str, Any] | None = None) -> list[str]:
        """Raise like the server for bad bodies; return warnings; prune unless Strict.
        `old` is the stored object on updates (see `Walker.walk`)."""
        schema = self.schema_for(resource)
        if schema is None:
            return []
        walker = Walker(self.resolve, prune=mode != "Strict")
        walker.walk(obj, schema, "", old)
        found = walker.found
        if found.unknown and mode == "Strict":
            fields = ", ".join(f'unknown field "{p}"' for p in found.unknown)
            raise bad_request(f'{resource.kind} in version "{resource.version}" cannot be '
                              f"handled as a {resource.kind}: strict decoding error: {fields}")
        if found.causes:
            name = (obj.get("metadata") or {}).get("name") or ""
            raise invalid(resource.kind, name, found.causes, resource.group)
        if mode == "Warn":
            return [f'unknown field "{p}"' for p in found.unknown]
        return []

    # ---------------------------------------------------- strategic merge
    def strategy_for(self, resource: ResourceType) -> Any:
        """For strategic merge: path of field names -> (patch strategy, merge key)."""
        schema = self.schema_for(resource) or {}

        @lru_cache(maxsize=256)
        def lookup(path: tuple[str, ...]) -> tuple[str | None, str | None]:
            node: Schema = schema
            for name in path:
                node = self.resolve(node)
                if node.get("type") == "array":
                    node = self.resolve(node.get("items") or {})
                node = (node.get("properties") or {}).get(name) or {}
            return node.get("x-kubernetes-patch-strategy"), node.get(
                "x-kubernetes-patch-merge-key")

        return lookup

    # --------------------------------------------------------------- CRDs
    def crd_schema(self, resource: ResourceType) -> Schema | None:
        """A self-contained openAPIV3Schema, as a CRD carries (metadata is opaque)."""
        schema = self.schema_for(resource)
        if schema is None:
            return None
        out = clone(schema)
        out.pop("x-kubernetes-group-version-kind", None)
        out.setdefault("properties", {})["metadata"] = {"type": "object"}
        return out


@lru_cache(maxsize=4)
def _load(path: Path) -> SchemaBook:
    return SchemaBook(_read(path))


def _read(path: Path) -> dict[str, Any]:
    try:
        with gzip.open(path) as handle:
            return json.load(handle)
    except FileNotFoundError:
        log.warning("no schema data at %s: requests are not validated", path)
        return {}
