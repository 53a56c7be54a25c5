"""The controllers' work queue: one run per key at a time, a key enqueued mid-run runs
again afterwards, requeue-after works, and a crash is reported, not swallowed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from suite.lab.context import LabContext
from suite.lab.controller import Controller, Key
from suite.lab.errors import ApiError
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

        queue = Controller(ctx, "test", reconcile)
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

        queue = Controller(ctx, "test", reconcile)
        queue.add((None, "x"))
        await asyncio.sleep(0.1)
        queue.close()
        await ctx.stop()
        return len(calls), ctx.errors

    count, errors = asyncio.run(scenario())
    assert count == 2
    assert len(errors) == 1 and "RuntimeError: controller bug" in errors[0]


def test_one_worker_runs_keys_one_at_a_time(tmp_path: Path) -> None:
    """With workers=1 (the compute controllers) two keys never overlap."""
    async def scenario() -> list[tuple[str, Key]]:
        ctx, log = _ctx(tmp_path), []

        async def reconcile(key: Key) -> float | None:
            log.append(("start", key))
            await asyncio.sleep(0.01)
            log.append(("end", key))
            return None

        queue = Controller(ctx, "test", reconcile, workers=1)
        queue.start()
        queue.add(("ns", "a"))
        queue.add(("ns", "b"))
        queue.add(("ns", "a"))  # still queued: coalesces with the first add
        await asyncio.sleep(0.1)
        await ctx.stop()
        return log

    log = asyncio.run(scenario())
    assert log == [("start", ("ns", "a")), ("end", ("ns", "a")),
                   ("start", ("ns", "b")), ("end", ("ns", "b"))]


def test_earliest_requeue_wins_and_api_errors_follow_the_policy(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[float], list[str]]:
        ctx, seen = _ctx(tmp_path), []
        loop = asyncio.get_running_loop()
        start = loop.time()

        async def reconcile(key: Key) -> float | None:
            seen.append(loop.time() - start)
            if len(seen) == 1:
                raise ApiError(409, "Conflict", "the object has been modified")
            return None

        queue = Controller(ctx, "test", reconcile)
        queue.add_after(("ns", "a"), 5.0)
        queue.add_after(("ns", "a"), 0.02)  # earlier: replaces the 5 s requeue
        queue.add_after(("ns", "a"), 3.0)   # later: ignored
        await asyncio.sleep(0.3)  # the conflict requeues after 0.05 s, not 3 s
        queue.close()
        await ctx.stop()
        return seen, ctx.errors

    seen, errors = asyncio.run(scenario())
    assert len(seen) == 2 and seen[0] < 1.0
    assert errors == []  # conflicts are races, not bugs


def test_failures_back_off_per_key_until_a_success(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[float], list[float], float]:
        ctx = _ctx(tmp_path)

        async def reconcile(key: Key) -> float | None:
            return None

        queue = Controller(ctx, "test", reconcile, backoff_s=(1.0, 5.0))
        a, b = ("ns", "a"), ("ns", "b")
        growing = [queue.when(a) for _ in range(5)]
        other = [queue.when(b)]  # per key: b starts afresh
        queue.forget(a)
        fresh = queue.when(a)
        await ctx.stop()
        return growing, other, fresh

    growing, other, fresh = asyncio.run(scenario())
    assert growing == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert other == [1.0] and fresh == 1.0
