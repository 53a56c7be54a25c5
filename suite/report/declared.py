"""Declared beside observed, in words for the reports.

What a class declares is decided once, at discovery (`suite.cluster.declared`);
the reports only read it, so the matrix can never say "undeclared" where a check
found the declaration. ``None`` means the cluster declares nothing either way
(e.g. no StorageProfile).
"""

from __future__ import annotations

from suite.cluster.declared import declarations, declared

__all__ = ["declarations", "declared", "describe"]


def describe(declared_value: bool | None, verdict: str) -> str:
    """Declared beside observed, in a few words for a table cell."""
    said = {True: "declared", False: "undeclared", None: "not declared either way"}
    seen = {"supported": "works", "unsupported": "not offered", "broken": "broken",
            "inconclusive": "undecided", "skipped": "not tested"}[verdict]
    return f"{said[declared_value]}, {seen}"
