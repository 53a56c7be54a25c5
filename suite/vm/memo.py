"""What provisioning taught us about a class, shared by the families of one run.

The provision family tries every volume mode x access mode; later families (expand,
snapshot, clone, ...) need *a* working volume and should not wait out another bind
timeout on a mode already seen refused or hanging. The memo only steers the choice of
mode; every verdict still comes from that family's own measurement. Each class's
``ClassContext`` owns its memo (``ctx.memo``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from suite.cluster.declared import declarations

MODES = ("Block", "Filesystem")
ACCESS = ("ReadWriteOnce", "ReadWriteMany")


@dataclass(frozen=True)
class Finding:
    status: str  # ok | refused | hung | failed
    message: str = ""


def declared_pairs(facts: dict) -> list[tuple[str, str]]:
    """(mode, access) pairs the class's StorageProfile declares, in its order (as
    discovery recorded them; only the pairs the suite tries)."""
    return [p for p in declarations(facts).pairs or () if p[0] in MODES and p[1] in ACCESS]


class ModeMemo:
    """What provisioning learned about one class in this run: (mode, access) -> Finding.

    One per class, owned by its ``ClassContext``, so it lives exactly as long as the
    class's assessment. Locked: a family may boot several VMs at once (bootstorm, perf)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._findings: dict[tuple[str, str], Finding] = {}

    def record(self, mode: str, access: str, finding: Finding) -> None:
        with self._lock:
            self._findings[(mode, access)] = finding

    def findings(self) -> dict[tuple[str, str], Finding]:
        with self._lock:
            return dict(self._findings)

    def candidates(self, facts: dict, *, modes: tuple[str, ...] = MODES,
                   access: tuple[str, ...] = ("ReadWriteOnce",)) -> list[tuple[str, str]]:
        """Pairs worth trying: known-good first, then declared, then the rest; never the
        ones already seen refused or hanging."""
        known = self.findings()
        wanted = [(m, a) for a in access for m in modes]
        order = [p for p in wanted if known.get(p, Finding("")).status == "ok"]
        order += [p for p in declared_pairs(facts) if p in wanted and p not in order]
        order += [p for p in wanted if p not in order]
        return [p for p in order if known.get(p, Finding("")).status not in ("refused", "hung")]
