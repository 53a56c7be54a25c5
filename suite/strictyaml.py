"""Strict reading of YAML data that people write: the one validator of the suite's run
profiles (suite/config) and the lab's driver files (suite/lab/drivers.py,
suite/lab/clusterprofile.py).

A typo must never silently fall back to a default, so every key must be known (an unknown
one is an error naming its path, e.g. ``timeouts.boot: unknown field (allowed: ...)``)
and every value must have the field's type. Errors are one line, raised as
`StrictYamlError`; each caller wraps it into its own error type (ConfigError for the
suite, DriverProfileError for the lab) with the message unchanged.

`load` builds nested frozen dataclasses: fields may carry ``metadata={"yaml": "<key>"}``
(the key in the file) and ``metadata={"parse": fn}`` (a converter such as a size parser,
raising ValueError); ``metadata={"internal": True}`` is never read from the file.
`check_keys` / `require_keys` serve hand-written validators, in their own wording.

A leaf module: it imports nothing from the suite (the lab must stand alone).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Collection
from typing import Any, TypeVar

import yaml

T = TypeVar("T")

UNKNOWN_FIELD = "unknown field (allowed: {allowed})"
UNKNOWN_KEY = "unknown key; expected one of {allowed}"
MISSING_FIELD = "required field is missing"


class StrictYamlError(Exception):
    """User data is wrong; the message is one line naming the field path."""


class YamlSyntaxError(StrictYamlError):
    """The text is not YAML at all; `line` (1-based) when the parser knows it."""

    def __init__(self, line: int | None) -> None:
        super().__init__("not valid YAML" + (f" (line {line})" if line else ""))
        self.line = line


def parse_yaml(text: str) -> Any:
    """yaml.safe_load, with a syntax error turned into `YamlSyntaxError`."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise YamlSyntaxError(mark.line + 1 if mark else None) from None


def check_keys(data: dict[Any, Any], allowed: Collection[str], path: str,
               wording: str = UNKNOWN_FIELD) -> None:
    """Refuse the first key not in `allowed`: ``<path>.<key>: <wording>``, where the
    wording may name the allowed keys as ``{allowed}``."""
    for key in data:
        if key not in allowed:
            raise StrictYamlError(
                f"{join(path, key)}: {wording.format(allowed=', '.join(allowed))}")


def require_keys(data: dict[Any, Any], required: Collection[str], path: str,
                 wording: str = MISSING_FIELD) -> None:
    """Refuse the first missing key: ``<path>.<key>: <wording>``."""
    for key in required:
        if key not in data:
            raise StrictYamlError(f"{join(path, key)}: {wording}")


def yaml_key(f: dataclasses.Field[Any]) -> str:
    return str(f.metadata.get("yaml", f.name))


def load(cls: type[T], data: Any, path: str) -> T:
    """Build dataclass ``cls`` from a mapping; errors read ``<path>.<key>: <problem>``."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise StrictYamlError(f"{path or 'profile'}: expected a mapping, got {kind(data)}")
    fields = {yaml_key(f): f for f in dataclasses.fields(cls)  # type: ignore[arg-type]
              if not f.metadata.get("internal")}
    check_keys(data, fields, path)
    hints = typing.get_type_hints(cls)
    values = {f.name: _field_value(f, hints[f.name], data, join(path, key))
              for key, f in fields.items() if key in data}
    require_keys(data, [k for k, f in fields.items() if _required(f)], path)
    return cls(**values)


def _field_value(f: dataclasses.Field[Any], hint: Any, data: dict[str, Any], path: str) -> Any:
    value = data[yaml_key(f)]
    parse = f.metadata.get("parse")
    if parse is not None:
        try:
            return parse(value, path)
        except ValueError as exc:
            raise StrictYamlError(f"{path}: {exc}") from None
    return convert(hint, value, path)


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def convert(hint: Any, value: Any, path: str) -> Any:
    """Check (and lightly coerce) ``value`` against a type hint."""
    if dataclasses.is_dataclass(hint):
        return load(hint, value, path)  # type: ignore[arg-type]
    origin = typing.get_origin(hint)
    if origin is tuple:
        if not isinstance(value, list):
            raise StrictYamlError(f"{path}: expected a list, got {kind(value)}")
        item = typing.get_args(hint)[0]
        return tuple(convert(item, v, f"{path}[{i}]") for i, v in enumerate(value))
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(hint):
            return None
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    return _scalar(hint, value, path)


def _scalar(hint: Any, value: Any, path: str) -> Any:
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value)
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    elif hint is str:
        if isinstance(value, str) and value.strip():
            return value
    elif hint is Any:
        return value
    raise StrictYamlError(f"{path}: expected {_describe(hint)}, got {kind(value)} {value!r}")


def _describe(hint: Any) -> str:
    return {bool: "true or false", float: "a non-negative number",
            int: "a non-negative integer", str: "a non-empty string"}.get(hint, str(hint))


def kind(value: Any) -> str:
    """How an error names a value's YAML type."""
    return {dict: "a mapping", list: "a list", type(None): "nothing"}.get(
        type(value), type(value).__name__)


def join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)
