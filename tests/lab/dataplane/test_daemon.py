"""The daemon and its QMP client on their own: the node graph the command line builds,
answers and errors over the monitor, and a stop that leaves no mount."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from dphelpers import MiB, pid_running

from suite.lab.dataplane import QmpError
from suite.lab.dataplane.daemon import Daemon, DaemonConfig
from suite.lab.dataplane.images import ImageRef, make_plain
from suite.lab.dataplane.mounts import is_mounted


async def _exercise(folder: Path) -> tuple[list, list, str, int]:
    # a folder name long enough to need the /proc/self/fd route to the socket
    folder = folder / ("deep-" * 12) / "volume"
    folder.mkdir(parents=True)
    make_plain(folder / "disk.raw", 8 * MiB)
    config = DaemonConfig("qmp-test", ImageRef(folder / "disk.raw"), folder / "export",
                          folder, {"iops": 1000, "bandwidthMiBs": 50})
    daemon = Daemon(config)
    await daemon.start()
    try:
        exports = await daemon.execute("query-block-exports")
        groups = await daemon.execute("qom-get", {"path": "/objects/tg0",
                                                  "property": "limits"})
        with pytest.raises(QmpError, match="CommandNotFound") as caught:
            await daemon.execute("no-such-command")
        error = str(caught.value)
    finally:
        pid = daemon.pid
        await daemon.stop()
    assert not is_mounted(config.export)
    assert pid is not None
    return exports, [groups], error, pid


def test_daemon_serves_its_export_and_reports_qmp_errors(tmp_path: Path) -> None:
    exports, groups, error, pid = asyncio.run(_exercise(tmp_path))
    assert [e["node-name"] for e in exports] == ["thr0"]  # the throttle node is on top
    assert groups[0]["iops-total"] == 1000
    assert groups[0]["bps-total"] == 50 * MiB
    assert error.startswith("QMP no-such-command failed: CommandNotFound")
    assert not pid_running(pid)
