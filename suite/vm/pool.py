"""Running VMs kept between families of one class, when the profile allows reuse.

Booting is the slow part on a real cluster (a minute or more per VM). A VM whose disk
proved good in `provision` can serve a later check that only needs *a* running VM with
a disk of some mode: the checks write fresh seeded data and judge on their own bytes,
so reuse does not weaken them. Families that reshape a VM (stop/resize/restore) take
one and delete it; those that leave it as it was hand it back.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from suite.vm.guestvm import GuestVM

class VMPool:
    """The idle running VMs of one class; owned by its ``ClassContext`` (``ctx.pool``),
    so nothing outlives the class's assessment. Locked: families may boot in threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[GuestVM] = []

    def put(self, vm: GuestVM) -> None:
        with self._lock:
            self._idle.append(vm)

    def discard(self, vm: GuestVM) -> None:
        """Forget `vm` (the class is done with it) and close its console connection."""
        with self._lock:
            if vm in self._idle:
                self._idle.remove(vm)
        vm.close()

    def take(self, pairs: list[tuple[str, str]], size_bytes: int | None) -> GuestVM | None:
        """An idle VM whose single data disk has one of `pairs` (in that order of
        preference) and, unless `size_bytes` is None, that size."""
        with self._lock:
            for mode, access in pairs:
                for vm in self._idle:
                    disk = vm.disks[0]
                    if (disk.volume_mode, disk.access_mode) != (mode, access):
                        continue
                    if size_bytes is not None and disk.size_bytes != size_bytes:
                        continue
                    self._idle.remove(vm)
                    return vm
        return None
