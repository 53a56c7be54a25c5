"""Kubernetes quantities ("512Mi", "1Gi", "1.5G") as byte counts: one parser for all.

The suite (profile sizes, claim capacities it reads back) and the lab (claims, PVs,
snapshots it provisions) read sizes the way Kubernetes does, so they cannot disagree on
what a suffix means: ``k``, ``M``, ``G`` ... are powers of 1000, ``Ki``, ``Mi``, ``Gi`` ...
powers of 1024, and a fraction rounds up to the next byte (as ``Quantity.Value()``).
fio's own size syntax is another language (``bs: 4k`` is 4096 there, fio's ``kb_base``),
read by ``suite.fio.job.parse_size`` for job files only.

A leaf module: it imports nothing from the suite, so the lab may share it.
"""

from __future__ import annotations

import math
import re

_UNITS = {
    "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$")


def parse_quantity(value: object) -> int:
    """Bytes for a quantity or an int; ValueError names the accepted forms."""
    if isinstance(value, bool):
        raise ValueError(f"expected a size like 512Mi or 1Gi, got {value!r}")
    if isinstance(value, int):
        return value
    match = _QUANTITY.match(str(value).strip())
    if not match or match.group(2) not in _UNITS:
        raise ValueError(f"expected a size like 512Mi or 1Gi, got {value!r}")
    return math.ceil(float(match.group(1)) * _UNITS[match.group(2)])


def format_quantity(size: int) -> str:
    """The canonical form an API server prints: the largest binary unit that divides."""
    for unit in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        if size and size % _UNITS[unit] == 0:
            return f"{size // _UNITS[unit]}{unit}"
    return str(size)
