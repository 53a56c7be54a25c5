"""Typed calls to the guest probe (probe.sh) over any command runner.

Checks never build probe command lines themselves: they call these methods, which quote
arguments, parse the probe's one-line answers and turn a non-zero exit into ProbeError
carrying the probe's one-line reason. The runner is the console session in a VM and a
subprocess on the host in the tests, so the same parsing is tested without a cluster.
"""

from __future__ import annotations

import base64
import os
import shlex
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

GUEST_PATH = "/usr/local/bin/kvs-probe"
FIO_NOT_FOUND = 127

# run(command_line, timeout_s) -> (exit_code, output)
Runner = Callable[[str, float], tuple[int, str]]


class ProbeError(Exception):
    """The probe refused or failed; `code` is its exit status, str() its reason."""

    def __init__(self, verb: str, code: int, reason: str) -> None:
        super().__init__(f"kvs-probe {verb}: {reason}")
        self.verb, self.code, self.reason = verb, code, reason


@dataclass(frozen=True)
class LoopState:
    written: int
    running: bool


def script_text() -> str:
    return resources.files("suite.guest").joinpath("probe.sh").read_text()


def script_path() -> Path:
    return Path(str(resources.files("suite.guest").joinpath("probe.sh")))


def parse_fields(line: str) -> dict[str, str]:
    """'sha256=ab bytes=4' -> {'sha256': 'ab', 'bytes': '4'}."""
    return dict(part.split("=", 1) for part in line.split() if "=" in part)


def _last_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


class Probe:
    """The probe's verbs; `command` is how the guest invokes the script."""

    def __init__(
        self,
        run: Runner,
        command: str = GUEST_PATH,
        timeout_s: float = 120.0,
        put_file: Callable[[str, str], None] | None = None,
    ) -> None:
        self._run, self.command, self.timeout_s = run, command, timeout_s
        # A serial console cuts long lines, so big arguments travel as a guest file.
        self._put_file = put_file

    def call(self, verb: str, *args: object, timeout_s: float | None = None) -> str:
        line = " ".join([self.command, verb, *(shlex.quote(str(a)) for a in args)])
        code, output = self._run(line, timeout_s or self.timeout_s)
        if code != 0:
            reason = _last_line(output).removeprefix("error: ") or f"exit status {code}"
            raise ProbeError(verb, code, reason)
        return output

    def _fields(self, verb: str, *args: object, timeout_s: float | None = None) -> dict:
        return parse_fields(_last_line(self.call(verb, *args, timeout_s=timeout_s)))

    def write(self, serial: str, offset: int, length: int, seed: str) -> str:
        return self._fields("write", serial, offset, length, seed)["sha256"]

    def checksum(self, serial: str, offset: int, length: int) -> str:
        return self._fields("checksum", serial, offset, length)["sha256"]

    def size(self, serial: str) -> int:
        return int(self._fields("size", serial)["bytes"])

    def has(self, tool: str) -> bool:
        try:
            self.call("has", tool)
        except ProbeError as exc:
            if exc.code == FIO_NOT_FOUND:
                return False
            raise
        return True

    def marker_write(self, serial: str, offset: int, length: int, marker: str) -> str:
        return self._fields("marker-write", serial, offset, length, marker)["sha256"]

    def fio(self, serial: str, job_file: str, timeout_s: float) -> str:
        """fio's JSON text; ProbeError with code 127 when the guest has no fio."""
        encoded = base64.b64encode(job_file.encode()).decode()
        if self._put_file is None:
            return self.call("fio", serial, encoded, timeout_s=timeout_s)
        path = f"/tmp/kvs-job-{uuid.uuid4().hex[:8]}.b64"
        self._put_file(path, encoded)
        run_fio = f'{self.command} fio {shlex.quote(serial)} "$(cat {path})"'
        code, output = self._run(f"( {run_fio}; rc=$?; rm -f {path}; exit $rc )", timeout_s)
        if code != 0:
            reason = _last_line(output).removeprefix("error: ") or f"exit status {code}"
            raise ProbeError("fio", code, reason)
        return output

    def loop_write(self, serial: str, offset: int, blocks: int, seed: str) -> None:
        self.call("loop-write", serial, offset, blocks, seed)

    def loop_status(self, serial: str) -> LoopState:
        fields = self._fields("loop-status", serial)
        return LoopState(int(fields["written"]), fields.get("running") == "yes")

    def loop_stop(self, serial: str) -> LoopState:
        fields = self._fields("loop-stop", serial, timeout_s=60)
        return LoopState(int(fields["written"]), fields.get("running") == "yes")

    def loop_verify(self, serial: str, offset: int, blocks: int, seed: str) -> int:
        """Blocks verified; ProbeError naming the first bad block otherwise."""
        return int(self._fields("loop-verify", serial, offset, blocks, seed)["blocks"])


def local_runner(dev_root: Path, extra_env: dict[str, str] | None = None) -> Runner:
    """Run probe command lines on this host (tests, benchmarks): PROBE_DEV_ROOT=dev_root."""
    env = {**os.environ, "PROBE_DEV_ROOT": str(dev_root), **(extra_env or {})}

    def run(line: str, timeout_s: float) -> tuple[int, str]:
        done = subprocess.run(
            ["sh", "-c", line], env=env, capture_output=True, text=True, timeout=timeout_s
        )
        return done.returncode, done.stdout + done.stderr

    return run
