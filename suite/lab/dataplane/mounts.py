"""Reading and cleaning FUSE mounts from /proc/mounts.

A FUSE export is only usable once the kernel lists it: anything written to the
mountpoint before that lands in the plain file underneath and is lost to the volume.
So readiness is decided here, from the kernel's own table, and the same table is used
at shutdown to prove (and force) that no mount is left behind.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

_OCTAL = re.compile(r"\\([0-7]{3})")


def _decode(field: str) -> str:
    # /proc/mounts escapes space, tab, newline and backslash as \ooo
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def mountpoints() -> set[Path]:
    """Every mountpoint the kernel currently lists."""
    with open("/proc/mounts", encoding="utf-8") as table:
        return {Path(_decode(line.split()[1])) for line in table if line.strip()}


def is_mounted(path: Path) -> bool:
    return path in mountpoints()


def mounts_under(folder: Path) -> list[Path]:
    """Mountpoints inside `folder`, deepest first so they can be unmounted in order."""
    inside = [m for m in mountpoints() if folder == m or folder in m.parents]
    return sorted(inside, key=lambda p: len(p.parts), reverse=True)


async def wait_mounted(path: Path, timeout_s: float, alive: Callable[[], bool]) -> bool:
    """Poll the kernel's table until `path` is a mountpoint, the daemon dies or time's up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and alive():
        if is_mounted(path):
            return True
        await asyncio.sleep(0.005)
    return is_mounted(path)


def force_unmount(path: Path) -> None:
    """Unmount a stale export: politely through fusermount3, else a lazy umount."""
    for command in (["fusermount3", "-u", "-q", str(path)], ["umount", "-l", str(path)]):
        if not is_mounted(path):
            return
        subprocess.run(command, capture_output=True, check=False)
