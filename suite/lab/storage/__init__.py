"""Placeholder: the storage half of the lab (see docs/internals.md)."""

from __future__ import annotations

from typing import Any


async def start(ctx: Any) -> None:
    """Launch this half's controllers on the lab loop."""
