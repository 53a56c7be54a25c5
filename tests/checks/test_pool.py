"""The per-class VM pool: which idle VM a family gets back (pure logic)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from suite.checks.base import ClassContext
from suite.config.profile import RunProfile
from suite.vm.pool import VMPool


@dataclass
class _Disk:
    volume_mode: str
    access_mode: str
    size_bytes: int


@dataclass
class _VM:
    """Only what the pool reads of a GuestVM: its disks, and close()."""

    name: str
    disks: list[_Disk]
    closed: bool = field(default=False)

    def close(self) -> None:
        self.closed = True


def test_take_prefers_the_pairs_in_order_and_matches_the_size() -> None:
    pool = VMPool()
    fs = _VM("fs", [_Disk("Filesystem", "ReadWriteOnce", 1 << 30)])
    block = _VM("block", [_Disk("Block", "ReadWriteOnce", 1 << 30)])
    pool.put(fs)  # type: ignore[arg-type]
    pool.put(block)  # type: ignore[arg-type]
    pairs = [("Block", "ReadWriteOnce"), ("Filesystem", "ReadWriteOnce")]
    assert pool.take(pairs, 2 << 30) is None  # no idle VM of that size
    assert pool.take(pairs, 1 << 30) is block
    assert pool.take(pairs, None) is fs
    assert pool.take(pairs, None) is None  # each VM is handed out once


def test_discard_forgets_the_vm_and_closes_its_console() -> None:
    pool = VMPool()
    vm = _VM("a", [_Disk("Block", "ReadWriteOnce", 1)])
    pool.put(vm)  # type: ignore[arg-type]
    pool.discard(vm)  # type: ignore[arg-type]
    assert vm.closed
    assert pool.take([("Block", "ReadWriteOnce")], None) is None


def test_each_class_context_has_its_own_pool_and_memo() -> None:
    def context(storage_class: str) -> Any:
        return ClassContext(kube=None, namespace="ns",  # type: ignore[arg-type]
                            storage_class=storage_class, facts={},
                            profile=RunProfile(name="t"), run_id="same-run")

    one, other = context("a"), context("b")
    one.pool.put(_VM("x", [_Disk("Block", "ReadWriteOnce", 1)]))
    assert other.pool.take([("Block", "ReadWriteOnce")], None) is None
    assert one.memo is not other.memo
