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

_lock = threading.Lock()
_idle: dict[tuple[str, str], list[GuestVM]] = {}


def put(run_id: str, storage_class: str, vm: GuestVM) -> None:
    with _lock:
        _idle.setdefault((run_id, storage_class), []).append(vm)


def discard(run_id: str, storage_class: str, vm: GuestVM) -> None:
    """Forget `vm` (the class is done with it) and close its console connection."""
    with _lock:
        idle = _idle.get((run_id, storage_class), [])
        if vm in idle:
            idle.remove(vm)
    vm.close()


def take(run_id: str, storage_class: str, pairs: list[tuple[str, str]],
         size_bytes: int | None) -> GuestVM | None:
    """An idle VM whose single data disk has one of `pairs` (in that order of preference)."""
    with _lock:
        idle = _idle.get((run_id, storage_class), [])
        for mode, access in pairs:
            for vm in idle:
                disk = vm.disks[0]
                if (disk.volume_mode, disk.access_mode) != (mode, access):
                    continue
                if size_bytes is not None and disk.size_bytes != size_bytes:
                    continue
                idle.remove(vm)
                return vm
    return None

