"""Evidence helpers shared by the VM steps and the families (a Cell is in checks.base)."""

from __future__ import annotations


def short(error: BaseException) -> str:
    """An exception as one line for a reason."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:300]
