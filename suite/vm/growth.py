"""What size a guest should see after its disk grew, by KubeVirt's own rules.

Block mode: the guest sees the device, so it grows by at least the step asked for.
Filesystem mode: the guest sees `disk.img`, a file on the PVC's filesystem, which
KubeVirt sizes (and grows, with the `ExpandDisks` gate) as (1 - filesystemOverhead) x
min(capacity, used + available of that filesystem), aligned down to 1 MiB
(kubevirt/kubevirt `pkg/virt-handler` / `pkg/virt-launcher` `possibleGuestSize` with
`AlignImageSizeTo1MiB`). The filesystem's own metadata and reserved blocks are not
visible from anywhere the suite can look, so the rule gives an upper bound, not an
exact figure: on ext4 the growth is often well under 0.9 x the step. Growth is real
when the guest gained at least one aligned MiB and stays within that bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MIB = 1 << 20
DEFAULT_OVERHEAD = 0.055  # CDI's default filesystemOverhead


def align_down_mib(size: int) -> int:
    return size // MIB * MIB


def kubevirt_image_size(capacity: int, overhead: float) -> int:
    """The largest `disk.img` KubeVirt makes on a filesystem PVC of `capacity` bytes."""
    return align_down_mib(int((1 - overhead) * capacity))


def claim_overhead(vmi: dict[str, Any] | None, claim: str) -> float:
    """The filesystemOverhead KubeVirt reports for the claim (CDI's default otherwise)."""
    for entry in ((vmi or {}).get("status") or {}).get("volumeStatus") or []:
        info = entry.get("persistentVolumeClaimInfo") or {}
        if info.get("claimName") == claim and info.get("filesystemOverhead") not in (None, ""):
            try:
                return float(info["filesystemOverhead"])
            except ValueError:
                break
    return DEFAULT_OVERHEAD


@dataclass(frozen=True)
class Expectation:
    """How to tell, from the guest's size, that its disk grew."""

    volume_mode: str
    before: int
    step: int
    capacity: int  # the PVC's capacity after the resize (bytes)
    overhead: float

    @property
    def ceiling(self) -> int | None:
        """KubeVirt's bound for a Filesystem disk; None for Block (the device itself)."""
        if self.volume_mode == "Block":
            return None
        return kubevirt_image_size(self.capacity, self.overhead)

    def grown(self, after: int) -> bool:
        if self.volume_mode == "Block":
            return after >= self.before + self.step
        return after >= self.before + MIB

    def evidence(self, after: int) -> dict[str, Any]:
        found: dict[str, Any] = {"sizingRule": "device" if self.ceiling is None else
                                 "kubevirt disk.img: (1 - overhead) x usable, 1 MiB aligned",
                                 "filesystemOverhead": self.overhead}
        if self.ceiling is not None:
            found["kubevirtMaxBytes"] = self.ceiling
            found["growthShareOfStep"] = round((after - self.before) / self.step, 3) \
                if self.step else None
        return found
