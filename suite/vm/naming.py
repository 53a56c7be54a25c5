"""Object names for one run: unique per class and role, valid DNS labels, short.

Every class of a run shares the run's namespace, so names carry the class (a slug plus
a hash, since two long class names may share a prefix) and a random tail (a rerun with
--keep must not collide with the leftovers of the previous one).
"""

from __future__ import annotations

import hashlib
import re
import secrets


def slug(text: str, limit: int = 14) -> str:
    cleaned = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return cleaned[:limit].strip("-") or "x"


def unique_name(storage_class: str, role: str) -> str:
    """e.g. 'kvs-snap-lab-ceph-rbd-3f2a-k9x1' (at most 44 characters)."""
    digest = hashlib.sha256(storage_class.encode()).hexdigest()[:4]
    tail = secrets.token_hex(2)
    return f"kvs-{slug(role, 8)}-{slug(storage_class)}-{digest}-{tail}"
