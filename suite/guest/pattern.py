"""The probe's seeded pattern, computed on the suite's side.

The probe (probe.sh) writes this pattern inside the guest and reports its sha256; having
the same generator here lets a check know what a range *should* hash to without asking
the guest, and lets the tests prove the shell and Python sides agree byte for byte.
"""

from __future__ import annotations

import hashlib

MIB = 1024 * 1024


def _base(seed: str) -> bytes:
    chunk = b"".join(
        hashlib.sha256(f"kvs:{seed}:{j}".encode()).hexdigest().encode() for j in range(64)
    )
    return chunk * 256


def pattern_bytes(seed: str, offset: int, length: int) -> bytes:
    """The bytes `kvs-probe write <serial> offset length seed` puts on the disk."""
    base = _base(seed)
    parts = []
    pos, end = offset, offset + length
    while pos < end:
        unit = min(MIB, end - pos)
        parts.append((f"kvs seed={seed} pos={pos}\n".encode() + base)[:unit])
        pos += unit
    return b"".join(parts)


def pattern_sha256(seed: str, offset: int, length: int) -> str:
    return hashlib.sha256(pattern_bytes(seed, offset, length)).hexdigest()


def zero_sha256(length: int) -> str:
    """What a never-written (or zero-filled) range hashes to: names stale restores."""
    digest = hashlib.sha256()
    block = bytes(MIB)
    left = length
    while left > 0:
        digest.update(block[: min(MIB, left)])
        left -= MIB
    return digest.hexdigest()
