"""Structural validation of request bodies against the kinds' OpenAPI schemas.

It reports what a real server reports with server-side field validation:
- unknown fields (strict decoding): with fieldValidation=Strict a 400 naming every
  unknown field path, with Warn a `Warning` header each, with Ignore nothing; in the
  last two cases the fields are dropped, as decoding or CRD pruning drops them;
- wrong types, missing required fields and values outside an enum: 422 Invalid with
  one cause per field path, worded as CRD structural validation words them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Schema = dict[str, Any]
Resolve = Callable[[Schema], Schema]

_JSON_TYPES = {"string": (str,), "integer": (int,), "number": (int, float),
               "boolean": (bool,), "object": (dict,), "array": (list,)}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    for name in ("string", "integer", "number", "object", "array"):
        if isinstance(value, _JSON_TYPES[name]):
            return name
    return type(value).__name__


def _type_ok(expected: str, value: Any) -> bool:
    if expected in ("integer", "number") and isinstance(value, bool):
        return False
    if expected == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _JSON_TYPES.get(expected, (object,)))


@dataclass
class Findings:
    unknown: list[str] = field(default_factory=list)
    causes: list[dict[str, str]] = field(default_factory=list)

    def invalid(self, path: str, reason: str, message: str) -> None:
        self.causes.append({"reason": reason, "message": message, "field": path})


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class Walker:
    """Walks an object along its schema, collecting findings; prunes when told to."""

    def __init__(self, resolve: Resolve, prune: bool) -> None:
        self.resolve = resolve
        self.prune = prune
        self.found = Findings()

    def walk(self, value: Any, schema: Schema, path: str, old: Any = None) -> None:
        """`old` is the same place in the stored object: unknown fields already stored
        (written by a lab controller, not a client) are kept and not reported."""
        schema = self.resolve(schema)
        if value is None:
            return  # null reads as "unset" for built-in types and nullable CRD fields
        if schema.get("x-kubernetes-int-or-string"):
            if not isinstance(value, int | str) or isinstance(value, bool):
                self._type_error(value, "integer,string", path)
            return
        expected = schema.get("type")
        if expected and not _type_ok(expected, value):
            self._type_error(value, expected, path)
            return
        if "enum" in schema and value not in schema["enum"]:
            allowed = ", ".join(json.dumps(v) for v in schema["enum"])
            self.found.invalid(path, "FieldValueNotSupported",
                               f"Unsupported value: {json.dumps(value)}: supported values: "
                               f"{allowed}")
        if isinstance(value, dict):
            self._object(value, schema, path, old if isinstance(old, dict) else {})
        elif isinstance(value, list) and "items" in schema:
            olds = old if isinstance(old, list) else []
            for index, item in enumerate(value):
                before = olds[index] if index < len(olds) else None
                self.walk(item, schema["items"], f"{path}[{index}]", before)

    def _type_error(self, value: Any, expected: str, path: str) -> None:
        got = json_type(value)
        self.found.invalid(path, "FieldValueTypeInvalid",
                           f'Invalid value: "{got}": {path} in body must be of type '
                           f'{expected}: "{got}"')

    def _object(self, value: dict[str, Any], schema: Schema, path: str,
                old: dict[str, Any]) -> None:
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        keeps_unknown = bool(schema.get("x-kubernetes-preserve-unknown-fields")) or extra is True
        for key in list(value):
            child = _join(path, key)
            if key in properties:
                self.walk(value[key], properties[key], child, old.get(key))
            elif isinstance(extra, dict):
                self.walk(value[key], extra, child, old.get(key))
            elif not keeps_unknown and key not in old:
                self.found.unknown.append(child)
                if self.prune:
                    del value[key]
        for name in schema.get("required") or []:
            if name not in value:
                self.found.invalid(_join(path, name), "FieldValueRequired", "Required value")
