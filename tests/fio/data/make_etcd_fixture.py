"""Write `fio-3.3x.etcd-wal.json`: one real run of the built-in `etcd-wal` job.

Run from the repository root with fio 3.3x installed:

    python tests/fio/data/make_etcd_fixture.py

The job comes from the assessment job set (2300-byte buffered writes, fdatasync after
each, QD1), shortened to one second and preceded by the suite's prefill, rendered by
the suite's own job-file writer. fio's json+ output is kept as printed (re-indented,
the temp file's path replaced by a guest's device path).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from suite.fio.jobfile import DEVICE_TOKEN, render_job_file  # noqa: E402
from suite.fio.jobs import parse_job_set  # noqa: E402

HERE = Path(__file__).resolve().parent
AREA = 16 * 1024 * 1024
GUEST_DEVICE = "/dev/disk/by-id/virtio-perf0"


def main() -> None:
    (job,) = [j for j in parse_job_set("assessment", "assessment") if j.name == "etcd-wal"]
    text = render_job_file([replace(job, runtime_s=1, ramp_s=0)], size_bytes=AREA,
                           prefill=True)
    with tempfile.TemporaryDirectory(prefix="kvs-fixture-") as folder:
        device = Path(folder) / "dev.dat"
        device.write_bytes(b"\0" * AREA)
        job_file = Path(folder) / "job.fio"
        job_file.write_text(text.replace(DEVICE_TOKEN, str(device)))
        out = subprocess.run(["fio", "--output-format=json+", str(job_file)], check=True,
                             capture_output=True, text=True, timeout=120).stdout
    doc = json.loads(out.replace(str(device), GUEST_DEVICE))
    (HERE / "fio-3.3x.etcd-wal.json").write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
