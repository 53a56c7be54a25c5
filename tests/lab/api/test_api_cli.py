"""`python -m suite.lab serve` as a user runs it: serve, answer kubectl, stop on SIGTERM;
clear one-line errors for bad input."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

SERVE = [sys.executable, "-m", "suite.lab", "serve"]


@pytest.mark.slow
def test_serve_until_sigterm(tmp_path: Path) -> None:
    kubeconfig, state = tmp_path / "kubeconfig", tmp_path / "state"
    proc = subprocess.Popen([*SERVE, "--kubeconfig", str(kubeconfig), "--state-dir",
                             str(state)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("lab listening on https://127.0.0.1:"), line
        names = subprocess.run(
            ["kubectl", "--kubeconfig", str(kubeconfig), "--cache-dir", str(state / "cache"),
             "get", "ns", "-o", "name"], capture_output=True, text=True, timeout=30,
            check=True).stdout.split()
        assert "namespace/openshift-cnv" in names
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert not kubeconfig.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state"]


def _fails_with(args: list[str], expected: str) -> None:
    result = subprocess.run([*SERVE, *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr


def test_missing_drivers_file(tmp_path: Path) -> None:
    _fails_with(["--drivers", str(tmp_path / "absent.yaml")], "drivers file not found")


def test_invalid_driver_profile(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("drivers:\n  - name: lab-x\n")
    _fails_with(["--drivers", str(bad)], "drivers[0]")


def test_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        _fails_with(["--port", str(port)], f"port {port} is already in use")
