"""Fixtures for the data plane tests: a real DataPlane on a temporary state dir.

The tests drive the async API from plain test functions through an `asyncio.Runner`
(no pytest-asyncio here). Every plane is shut down afterwards and the teardown asserts
the promise the lab makes when it stops: no daemon and no FUSE mount left.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from dphelpers import TEST_KEYS, Plane, pid_running

from suite.lab.dataplane import DataPlane
from suite.lab.dataplane.images import LuksHeaders
from suite.lab.dataplane.mounts import mounts_under


@pytest.fixture(scope="session")
def luks_headers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """LUKS headers for the test keys, made once: each costs ~2 s of PBKDF2 benchmarking."""
    folder = tmp_path_factory.mktemp("luks-headers")
    headers = LuksHeaders(folder)

    async def make_all() -> None:
        await asyncio.gather(*(headers.header_for(key) for key in TEST_KEYS))

    asyncio.run(make_all())
    return folder


@pytest.fixture
def plane(tmp_path: Path, luks_headers: Path) -> Iterator[Plane]:
    state_dir = tmp_path / "state"
    shutil.copytree(luks_headers, state_dir / "luks-headers")
    with asyncio.Runner() as runner:
        dp = runner.run(_make(state_dir))
        harness = Plane(dp, runner, state_dir)
        try:
            yield harness
        finally:
            pids = dp.daemon_pids()
            runner.run(dp.shutdown())
            assert not [p for p in pids if pid_running(p)], "daemons left running"
            assert mounts_under(state_dir) == [], "FUSE mounts left behind"


async def _make(state_dir: Path) -> DataPlane:
    return DataPlane(state_dir)  # built inside the loop, as the lab does
