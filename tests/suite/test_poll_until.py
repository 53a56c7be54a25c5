"""poll_until, the suite's one polling loop (pure logic: done, timeout, cancellation)."""

from __future__ import annotations

import threading
import time

import pytest

from suite.cluster.errors import Cancelled, WaitTimeout
from suite.cluster.waits import poll_until


def test_returns_the_first_value_that_is_done_without_sleeping_after_it() -> None:
    values = iter([1, 2, 3, 4])
    started = time.monotonic()
    got = poll_until(lambda: next(values), lambda v: v >= 3, timeout_s=5.0, interval_s=0.01,
                     what="three", cancel=threading.Event())
    assert got == 3
    assert next(values) == 4  # sampled exactly three times
    assert time.monotonic() - started < 1.0


def test_a_wait_that_runs_out_names_what_it_waited_for() -> None:
    calls = []
    with pytest.raises(WaitTimeout) as raised:
        poll_until(lambda: calls.append(1), lambda v: False, timeout_s=0.05, interval_s=0.01,
                   what="the moon", cancel=None)
    assert "the moon" in str(raised.value) and raised.value.what == "the moon"
    assert len(calls) >= 2  # it kept sampling until the deadline


def test_last_on_timeout_hands_back_the_last_sample() -> None:
    counter = iter(range(1000))
    got = poll_until(lambda: next(counter), lambda v: False, timeout_s=0.05,
                     interval_s=0.01, what="never", cancel=None, last_on_timeout=True)
    assert got >= 1 and got == next(counter) - 1


def test_no_timeout_means_the_sample_ends_the_wait() -> None:
    clock = iter([0.0, 1e9, 2e9, 3e9, 4e9])
    values = iter([None, None, "done"])
    got = poll_until(lambda: next(values), lambda v: v is not None, timeout_s=None,
                     interval_s=0.0, what="x", cancel=None, clock=lambda: next(clock))
    assert got == "done"


def test_the_sample_s_own_exception_propagates() -> None:
    def broken() -> int:
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        poll_until(broken, bool, timeout_s=1.0, interval_s=0.01, what="x", cancel=None)


def test_cancel_before_the_first_sample_samples_nothing() -> None:
    cancel = threading.Event()
    cancel.set()
    calls = []
    with pytest.raises(Cancelled, match="the disk"):
        poll_until(lambda: calls.append(1), lambda v: False, timeout_s=10.0, interval_s=1.0,
                   what="the disk", cancel=cancel)
    assert calls == []


def test_cancel_mid_sleep_ends_the_wait_at_once() -> None:
    cancel = threading.Event()
    set_at: list[float] = []

    def interrupt() -> None:
        set_at.append(time.monotonic())
        cancel.set()

    threading.Timer(0.2, interrupt).start()
    with pytest.raises(Cancelled, match="a long sleep"):
        poll_until(lambda: None, lambda v: False, timeout_s=60.0, interval_s=30.0,
                   what="a long sleep", cancel=cancel)
    woke_after = time.monotonic() - set_at[0]
    assert woke_after < 0.1  # not after the 30 s interval
