"""The capability families, by name: ``FAMILIES[name](ctx) -> list[Outcome]``.

Each family lives in ``suite/checks/<name>.py`` and exposes ``assess(ctx)``. A family
module that is not installed yet yields ``inconclusive`` cells saying so, so a partial
tree still produces a complete matrix.
"""

from __future__ import annotations

import importlib

from suite.checks.base import FAMILY_CAPABILITIES, ClassContext, Family, Outcome


def _not_installed(name: str, reason: str) -> Family:
    def assess(ctx: ClassContext) -> list[Outcome]:
        return [Outcome(cap, "inconclusive", reason) for cap in FAMILY_CAPABILITIES[name]]

    return assess


def _load(name: str) -> Family:
    try:
        module = importlib.import_module(f"suite.checks.{name}")
    except ImportError as exc:
        if exc.name == f"suite.checks.{name}":
            return _not_installed(name, "check family not installed")
        return _not_installed(name, f"check family failed to import: {exc}")
    return module.assess  # type: ignore[no-any-return]


FAMILIES: dict[str, Family] = {name: _load(name) for name in FAMILY_CAPABILITIES}
