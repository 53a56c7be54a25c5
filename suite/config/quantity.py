"""Kubernetes quantities ("512Mi", "1Gi", "1.5G") as byte counts.

Profiles give sizes the way manifests do; the checks need exact bytes to compare what
the guest reports with what was asked for.
"""

from __future__ import annotations

import re

_SUFFIX = {
    "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kMGT]i?|Ki)?\s*$")


def parse_bytes(value: object) -> int:
    """Bytes for a quantity; raises ValueError with the accepted forms."""
    if isinstance(value, bool):
        raise ValueError(f"expected a size like 1Gi, got {value!r}")
    if isinstance(value, int):
        return value
    match = _PATTERN.match(str(value))
    if not match or (match.group(2) or "") not in _SUFFIX:
        raise ValueError(f"expected a size like 512Mi or 1Gi, got {value!r}")
    return int(float(match.group(1)) * _SUFFIX[match.group(2) or ""])


def format_bytes(size: int) -> str:
    """The shortest exact binary quantity for ``size`` ("1Gi", "1536Mi", "4096")."""
    for suffix in ("Ti", "Gi", "Mi", "Ki"):
        unit = _SUFFIX[suffix]
        if size and size % unit == 0:
            return f"{size // unit}{suffix}"
    return str(size)
