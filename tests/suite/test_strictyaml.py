"""The one strict-YAML validator (suite/strictyaml.py) and its two wrappers: the suite's
ConfigError and the lab's DriverProfileError carry its one-line message unchanged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from suite import strictyaml
from suite.config import strict
from suite.config.errors import ConfigError
from suite.lab.clusterprofile import parse_cluster
from suite.lab.drivers import DriverProfileError


def _positive(value: Any, path: str) -> int:
    if not isinstance(value, int) or value <= 0:
        raise ValueError(f"expected a positive integer, got {value!r}")
    return value


@dataclass(frozen=True)
class Inner:
    boot_s: float = field(default=1.0, metadata={"yaml": "boot"})


@dataclass(frozen=True)
class Outer:
    name: str
    count: int = field(default=1, metadata={"parse": _positive})
    inner: Inner = field(default_factory=Inner)
    tags: tuple[str, ...] = ()


def test_load_builds_nested_dataclasses() -> None:
    got = strictyaml.load(Outer, {"name": "x", "count": 3, "inner": {"boot": 2},
                                  "tags": ["a"]}, "")
    assert got == Outer("x", 3, Inner(2.0), ("a",))


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "x", "inner": {"bot": 1}},
     "inner.bot: unknown field (allowed: boot)"),
    ({"count": 2}, "name: required field is missing"),
    ({"name": "x", "count": 0}, "count: expected a positive integer, got 0"),
    ({"name": "x", "tags": "a"}, "tags: expected a list, got str"),
    ({"name": ""}, "name: expected a non-empty string, got str ''"),
])
def test_errors_name_the_path(data: dict[str, Any], message: str) -> None:
    with pytest.raises(strictyaml.StrictYamlError) as raised:
        strictyaml.load(Outer, data, "")
    assert str(raised.value) == message
    with pytest.raises(ConfigError) as wrapped:  # the suite's wrapper: same line
        strict.load(Outer, data, "")
    assert str(wrapped.value) == message


def test_check_keys_in_the_callers_wording() -> None:
    with pytest.raises(strictyaml.StrictYamlError,
                       match=r"^cluster\.nodes: unknown key; expected one of a, b$"):
        strictyaml.check_keys({"a": 1, "nodes": 2}, ("a", "b"), "cluster",
                              strictyaml.UNKNOWN_KEY)
    with pytest.raises(DriverProfileError,  # the lab's wrapper
                       match=r"^cluster\.api\.slow: unknown key; expected one of "):
        parse_cluster({"api": {"slow": 1}})


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(strictyaml.YamlSyntaxError) as raised:
        strictyaml.parse_yaml("a: 1\nb: [unclosed\n")
    assert raised.value.line is not None and str(raised.value).startswith("not valid YAML (line")
