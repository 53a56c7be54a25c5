"""An `execute` binding that runs fio on this machine against a file or device.

The suite's own binding goes through the guest probe; this one is the direct
reference the fidelity benchmark compares against, and what the tests use to
produce real fio output without a VM.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from suite.fio.errors import FioOutputError, FioUnavailable
from suite.fio.jobfile import DEVICE_TOKEN


def local_execute(target: Path | str, *, timeout_s: float = 3600.0,
                  fio: str = "fio") -> Callable[[str], str]:
    """`execute(job_text) -> fio json+ stdout`, with `@DEVICE@` replaced by `target`."""
    def execute(job_text: str) -> str:
        if shutil.which(fio) is None:
            raise FioUnavailable(f"{fio}: not found")
        with tempfile.TemporaryDirectory(prefix="kvs-fio-") as folder:
            job_file = Path(folder) / "job.fio"
            job_file.write_text(job_text.replace(DEVICE_TOKEN, str(target)))
            done = subprocess.run([fio, "--output-format=json+", str(job_file)],
                                  capture_output=True, text=True, timeout=timeout_s, check=False)
        if done.returncode != 0 and "{" not in done.stdout:
            raise FioOutputError(f"fio exited {done.returncode}: {done.stderr.strip()[:300]}")
        # fio prints some diagnostics on stderr and some before the JSON on
        # stdout; keep both in front so the parser records them as warnings.
        return done.stderr + done.stdout
    return execute
