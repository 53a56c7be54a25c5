"""The lab's class-wide copy budget: concurrent copies of a class share its bandwidth."""

from __future__ import annotations

import asyncio
import time

from suite.lab.dataplane.budget import HOST_STREAM_MIBS, MIB, Budget, Budgets, rate_bytes


def test_concurrent_copies_share_the_pipe() -> None:
    budget = Budget(bytes_per_s=10 * MIB)

    async def storm() -> float:
        started = time.monotonic()
        await asyncio.gather(*(budget.charge(MIB) for _ in range(4)))  # 4 MiB at 10 MiB/s
        return time.monotonic() - started

    took = asyncio.run(storm())
    assert 0.38 <= took < 1.5, took


def test_limited_class_streams_at_its_limit_others_at_host_rate() -> None:
    assert rate_bytes({"bandwidthMiBs": 40}) == 40 * MIB
    assert rate_bytes({"iops": 400}) == HOST_STREAM_MIBS * MIB
    assert rate_bytes(None) == HOST_STREAM_MIBS * MIB
    budgets = Budgets()
    assert budgets.for_class("a", None) is budgets.for_class("a", None)
    assert budgets.for_class("a", None) is not budgets.for_class("b", None)
