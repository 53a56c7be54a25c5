"""Strict loading of run profiles: the shared validator (suite/strictyaml.py, a leaf the
lab uses too) with its errors as the suite's ConfigError, message unchanged.

Every key must be a field (unknown keys are errors naming their path: a typo must not
silently fall back to a default), every value must have the field's type; see
suite.strictyaml for the field metadata (``yaml``, ``parse``, ``internal``).
"""

from __future__ import annotations

from typing import Any, TypeVar

from suite import strictyaml
from suite.config.errors import ConfigError
from suite.strictyaml import yaml_key as yaml_key

T = TypeVar("T")


def load(cls: type[T], data: Any, path: str) -> T:
    """Build ``cls`` from a mapping; errors read ``<path>.<key>: <problem>``."""
    try:
        return strictyaml.load(cls, data, path)
    except strictyaml.StrictYamlError as exc:
        raise ConfigError(str(exc)) from None


def convert(hint: Any, value: Any, path: str) -> Any:
    """Check (and lightly coerce) ``value`` against a type hint."""
    try:
        return strictyaml.convert(hint, value, path)
    except strictyaml.StrictYamlError as exc:
        raise ConfigError(str(exc)) from None
