"""virt-launcher's migration monitor rules as the QEMU runtime applies them to
query-migrate (pure logic: a clock the test moves), and the reasons KubeVirt writes."""

from __future__ import annotations

from typing import Any

import pytest

from suite.lab.compute.qemu.migrate import (
    ConvergenceMonitor,
    data_remaining,
    failure_reason,
    migration_data_gb,
    monitor_for,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def active(remaining: int, disk: int | None = None) -> dict[str, Any]:
    info: dict[str, Any] = {"status": "active", "ram": {"remaining": remaining}}
    if disk is not None:
        info["disk"] = {"remaining": disk}
    return info


def test_a_copy_whose_remaining_data_falls_is_left_alone() -> None:
    clock = Clock()
    monitor = ConvergenceMonitor(progress_timeout_s=150, completion_timeout_s=300, clock=clock)
    for remaining in (900, 700, 500, 300, 100):  # 200 s in all, falling at every poll
        assert monitor.observe(active(remaining)) is None
        clock.now += 50
    assert monitor.watermark == 100 and monitor.last_progress == 300


def test_a_stuck_copy_is_aborted_after_the_progress_timeout() -> None:
    clock = Clock()
    monitor = ConvergenceMonitor(progress_timeout_s=150, completion_timeout_s=0, clock=clock)
    assert monitor.observe(active(1000)) is None
    clock.now += 100
    assert monitor.observe(active(1000)) is None  # no progress yet, within the timeout
    clock.now += 51
    assert monitor.observe(active(1200)) == "stuck for 151 seconds"  # more dirty data
    assert monitor.observe(active(10)) is None  # the abort is already under way


def test_a_copy_past_its_completion_time_is_aborted() -> None:
    clock = Clock()
    monitor = ConvergenceMonitor(progress_timeout_s=150, completion_timeout_s=300, clock=clock)
    remaining = 10_000
    reason = None
    while reason is None and clock.now < 1000:
        remaining -= 1
        reason = monitor.observe(active(remaining))
        clock.now += 10
    assert reason == "not completed after 300 seconds"
    assert 400 <= clock.now <= 420  # 300 s after the first poll at 100


def test_zero_timeouts_never_abort() -> None:
    clock = Clock()
    monitor = ConvergenceMonitor(progress_timeout_s=0, completion_timeout_s=0, clock=clock)
    for _ in range(5):
        assert monitor.observe(active(5)) is None
        clock.now += 10_000


def test_data_remaining_adds_disk_to_memory() -> None:
    assert data_remaining(active(10, disk=5)) == 15
    assert data_remaining(active(10)) == 10
    assert data_remaining({"status": "setup"}) is None


@pytest.mark.parametrize("memory, gb", [("256Mi", 1), ("1Gi", 2), ("2G", 2), ("3Gi", 4)])
def test_migration_data_is_the_memory_in_whole_gb(memory: str, gb: int) -> None:
    vmi = {"spec": {"domain": {"resources": {"requests": {"memory": memory}}}}}
    assert migration_data_gb(vmi) == gb
    guest = {"spec": {"domain": {"memory": {"guest": memory},
                                 "resources": {"requests": {"memory": "64Gi"}}}}}
    assert migration_data_gb(guest) == gb  # memory.guest wins, as in virt-launcher


def test_monitor_takes_the_migration_configuration() -> None:
    vmi = {"spec": {"domain": {"resources": {"requests": {"memory": "1Gi"}}}}}
    monitor = monitor_for(vmi, {"progressTimeout": 150, "completionTimeoutPerGiB": 150})
    assert (monitor.progress_timeout_s, monitor.completion_timeout_s) == (150, 300)


def test_failure_reason_is_libvirts_failed_migration_job() -> None:
    reason = failure_reason("Unable to write to socket: Connection reset by peer")
    assert reason.startswith("Live migration failed error encountered during MigrateToURI3 "
                             "libvirt api call: virError(Code=9, Domain=10, Message=")
    assert reason.endswith("'operation failed: job 'migration out' failed: Unable to write "
                           "to socket: Connection reset by peer')")
