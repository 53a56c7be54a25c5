"""Strict, generic loading of nested dataclasses from YAML data.

Every key must be a field (unknown keys are errors naming their path: a typo must not
silently fall back to a default), every value must have the field's type. Fields may
carry ``metadata={"yaml": "<key>"}`` (the key in the file) and ``metadata={"parse": fn}``
(a converter such as a size parser); ``metadata={"internal": True}`` is never read
from the file.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar

from suite.config.errors import ConfigError

T = TypeVar("T")


def yaml_key(f: dataclasses.Field[Any]) -> str:
    return str(f.metadata.get("yaml", f.name))


def load(cls: type[T], data: Any, path: str) -> T:
    """Build ``cls`` from a mapping; errors read ``<path>.<key>: <problem>``."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path or 'profile'}: expected a mapping, got {_kind(data)}")
    fields = {yaml_key(f): f for f in dataclasses.fields(cls)  # type: ignore[arg-type]
              if not f.metadata.get("internal")}
    for key in data:
        if key not in fields:
            raise ConfigError(f"{_join(path, key)}: unknown field (allowed: {', '.join(fields)})")
    hints = typing.get_type_hints(cls)
    values = {f.name: _field_value(f, hints[f.name], data, _join(path, key))
              for key, f in fields.items() if key in data}
    missing = [k for k, f in fields.items() if k not in data and _required(f)]
    if missing:
        raise ConfigError(f"{_join(path, missing[0])}: required field is missing")
    return cls(**values)


def _field_value(f: dataclasses.Field[Any], hint: Any, data: dict[str, Any], path: str) -> Any:
    value = data[yaml_key(f)]
    parse = f.metadata.get("parse")
    if parse is not None:
        try:
            return parse(value, path)
        except ValueError as exc:
            raise ConfigError(f"{path}: {exc}") from None
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
            raise ConfigError(f"{path}: expected a list, got {_kind(value)}")
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
    raise ConfigError(f"{path}: expected {_describe(hint)}, got {_kind(value)} {value!r}")


def _describe(hint: Any) -> str:
    return {bool: "true or false", float: "a non-negative number",
            int: "a non-negative integer", str: "a non-empty string"}.get(hint, str(hint))


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", type(None): "nothing"}.get(
        type(value), type(value).__name__)


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)
