"""The capability families, by name: ``FAMILIES[name](ctx) -> list[Outcome]``.

Each family lives in ``suite/checks/<name>.py`` and exposes ``assess(ctx)``; the
capability ids each family owns are listed in ``FAMILY_CAPABILITIES``.
"""

from __future__ import annotations

import importlib

from suite.capabilities import FAMILY_CAPABILITIES
from suite.checks.base import Family


def _load(name: str) -> Family:
    module = importlib.import_module(f"suite.checks.{name}")
    return module.assess  # type: ignore[no-any-return]


FAMILIES: dict[str, Family] = {name: _load(name) for name in FAMILY_CAPABILITIES}
