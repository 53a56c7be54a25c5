"""Helpers shared by the data plane tests: byte I/O on exports and process checks."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from suite.lab.dataplane import DataPlane

T = TypeVar("T")
MiB = 1 << 20
KEY = b"lab-test-key"
OTHER_KEY = b"another-class-key"
TEST_KEYS = (KEY, OTHER_KEY)


@dataclass
class Plane:
    """A DataPlane plus the runner that drives it from synchronous tests."""

    dp: DataPlane
    runner: asyncio.Runner
    state_dir: Path

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(coro)


def pid_running(pid: int) -> bool:
    """True while /proc lists the pid as something other than a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def write_at(path: Path, offset: int, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, data, offset)
    finally:
        os.close(fd)


def read_at(path: Path, offset: int, length: int) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.pread(fd, length, offset)
    finally:
        os.close(fd)


def size_by_seek(path: Path) -> int:
    """The size a consumer opening the device now would see."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)


def contains(path: Path, marker: bytes) -> bool:
    """Scan a (sparse) file for a marker, chunk by chunk."""
    tail = b""
    with open(path, "rb") as image:
        while chunk := image.read(8 * MiB):
            if marker in tail + chunk:
                return True
            tail = chunk[-len(marker):]
    return False
