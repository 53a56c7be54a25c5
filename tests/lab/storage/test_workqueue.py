"""The controllers' work queue: one run per key at a time, a key enqueued mid-run runs
again afterwards, requeue-after works, and a crash is reported, not swallowed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from suite.lab.context import LabContext
from suite.lab.storage.workqueue import Key, WorkQueue
from suite.lab.store import Store


def _ctx(tmp_path: Path) -> LabContext:
    return LabContext(Store(), tmp_path, [])


def test_one_run_per_key_and_rerun_when_dirty(tmp_path: Path) -> None:
    async def scenario() -> list[tuple[str, Key]]:
        ctx, log, gate = _ctx(tmp_path), [], asyncio.Event()

        async def reconcile(key: Key) -> float | None:
            log.append(("start", key))
            await gate.wait()
            log.append(("end", key))
            return None

        queue = WorkQueue(ctx, "test", reconcile)
        queue.add(("ns", "a"))
        await asyncio.sleep(0)
        queue.add(("ns", "a"))  # while running: marks it dirty, no second concurrent run
        queue.add(("ns", "a"))
        await asyncio.sleep(0.01)
        gate.set()
        await asyncio.sleep(0.05)
        await ctx.stop()
        return log

    log = asyncio.run(scenario())
    assert log == [("start", ("ns", "a")), ("end", ("ns", "a")),
                   ("start", ("ns", "a")), ("end", ("ns", "a"))]


def test_requeue_after_and_crash_reporting(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, list[str]]:
        ctx, calls = _ctx(tmp_path), []

        async def reconcile(key: Key) -> float | None:
            calls.append(key)
            if len(calls) == 1:
                return 0.01  # ask to be called again shortly
            raise RuntimeError("controller bug")

        queue = WorkQueue(ctx, "test", reconcile)
        queue.add((None, "x"))
        await asyncio.sleep(0.1)
        queue.close()
        await ctx.stop()
        return len(calls), ctx.errors

    count, errors = asyncio.run(scenario())
    assert count == 2
    assert len(errors) == 1 and "RuntimeError: controller bug" in errors[0]
