"""Write the fio fixtures of this folder: one real fio 3.3x run, reshaped as older fio.

Run from the repository root with fio 3.3x installed:

    python tests/fio/data/make_fixtures.py

The suite's own job file (prefill, QD1 random read, fdatasync write, 70/30 mix) runs
once with `--output-format=json+`; that output is kept with its values untouched (only
re-indented, and the temp file's path replaced by a guest's device path), and rewritten into
the layouts fio 3.16 (Ubuntu 20.04) and fio 3.1 (Ubuntu 18.04) print for the very
same I/Os, following axboe/fio `stat.c` of those tags:

* 3.16: no `N` (added in 3.18); no `job_start`; the sync direction carries no
  percentiles when `clat_percentiles=0`.
* 3.1: as 3.16, and no `bw_bytes` (3.2), no `sync` direction (3.4), no
  `job_runtime`/`iodepth_submit`/`iodepth_complete`; with `lat_percentiles=1` the
  total-latency percentiles and json+ bins sit under `clat_ns` (moved in 3.13 and
  3.2), padded to 20 entries with repeated `"0.00" : 0` keys (dropped in 3.4).

The plain `json` variants are the json+ ones without `bins` (json+ is json plus the
histograms). A second real run with `--status-interval=1` gives a file of several
status dumps, and a small fio 2.17-shaped file (microsecond `clat`/`lat`, no `*_ns`)
checks the refusal. The real outputs quoted in the issue were read to learn these
shapes; none of their bytes is copied here.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from suite.fio.jobfile import DEVICE_TOKEN, render_job_file  # noqa: E402
from suite.fio.jobs import parse_job_set  # noqa: E402

HERE = Path(__file__).resolve().parent
AREA = 16 * 1024 * 1024
JOBS = [
    {"name": "lat-randread", "rw": "randread", "bs": "4k", "runtime_s": 1},
    {"name": "fsync-write", "rw": "write", "bs": "4k", "ioengine": "sync", "fdatasync": 1,
     "runtime_s": 1},
    {"name": "mix", "rw": "randrw", "bs": "8k", "rwmixread": 70, "iodepth": 4, "runtime_s": 1},
]
LAT_KEYS = ("slat_ns", "clat_ns", "lat_ns")
JOB_KEYS_316 = {"jobname", "groupid", "error", "eta", "elapsed", "job options", "read", "write",
                "trim", "sync", "job_runtime", "usr_cpu", "sys_cpu", "ctx", "majf", "minf",
                "iodepth_level", "iodepth_submit", "iodepth_complete", "latency_ns",
                "latency_us", "latency_ms", "latency_depth", "latency_target",
                "latency_percentile", "latency_window"}
JOB_KEYS_31 = JOB_KEYS_316 - {"sync", "job_runtime", "iodepth_submit", "iodepth_complete"}
TOP_KEYS = {"fio version", "timestamp", "timestamp_ms", "time", "global options", "jobs",
            "disk_util"}
GUEST_DEVICE = "/dev/disk/by-id/virtio-perf0"
PAD = 20  # FIO_IO_U_LIST_MAX_LEN in fio 3.1


def run_fio(job_text: str, *extra: str) -> str:
    with tempfile.TemporaryDirectory(prefix="kvs-fixture-") as folder:
        device = Path(folder) / "dev.dat"
        device.write_bytes(b"\0" * AREA)
        job = Path(folder) / "job.fio"
        job.write_text(job_text.replace(DEVICE_TOKEN, str(device)))
        out = Path(folder) / "out.json"
        subprocess.run(["fio", "--output-format=json+", f"--output={out}", *extra, str(job)],
                       check=True, timeout=120)
        # The fixture names the device a guest would use, not this machine's temp file.
        return out.read_text().replace(str(device), GUEST_DEVICE)


def _no_bins(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _no_bins(v) for k, v in node.items() if k != "bins"}
    if isinstance(node, list):
        return [_no_bins(v) for v in node]
    return node


def _common_old(doc: dict[str, Any], version: str, job_keys: set[str]) -> dict[str, Any]:
    old = {k: v for k, v in copy.deepcopy(doc).items() if k in TOP_KEYS}
    old["fio version"] = version
    old["jobs"] = [{k: v for k, v in job.items() if k in job_keys} for job in old["jobs"]]
    for job in old["jobs"]:
        for name in ("read", "write", "trim", "sync"):
            for key in LAT_KEYS:
                job.get(name, {}).get(key, {}).pop("N", None)
    return old


def as_316(doc: dict[str, Any]) -> dict[str, Any]:
    old = _common_old(doc, "fio-3.16", JOB_KEYS_316)
    for job in old["jobs"]:
        sync_lat = job["sync"]["lat_ns"]
        sync_lat.pop("percentile", None)  # 3.16: only with clat_percentiles
        sync_lat.pop("bins", None)
    return old


def as_31(doc: dict[str, Any]) -> dict[str, Any]:
    old = _common_old(doc, "fio-3.1", JOB_KEYS_31)
    for job in old["jobs"]:
        for name in ("read", "write", "trim"):
            d = job[name]
            d.pop("bw_bytes", None)
            lat, clat = d["lat_ns"], d["clat_ns"]
            pct = lat.pop("percentile", {})
            padded = dict(pct)
            for i in range(PAD - len(pct)):
                padded[f"@PAD{i}@"] = 0
            clat["percentile"] = padded
            if "bins" in lat:
                clat["bins"] = lat.pop("bins")
    return old


def as_217(doc: dict[str, Any]) -> dict[str, Any]:
    """A fio 2.17-shaped document: latency in microseconds under slat/clat/lat."""
    old = _common_old(doc, "fio-2.17", JOB_KEYS_31)
    old["jobs"] = old["jobs"][1:2]
    for job in old["jobs"]:
        for name in ("read", "write", "trim"):
            d = job[name]
            d.pop("bw_bytes", None)
            for key in LAT_KEYS:
                raw = d.pop(key)
                d[key[:-3]] = {k: (v / 1000 if isinstance(v, int | float) else v)
                               for k, v in raw.items() if k not in ("bins", "percentile")}
    return old


def dump(doc: dict[str, Any]) -> str:
    text = json.dumps(doc, indent=2)
    return re.sub(r'"@PAD\d+@"', '"0.00"', text) + "\n"


def main() -> None:
    jobs = parse_job_set({"jobs": JOBS}, "tests/fio/data/make_fixtures.py")
    job_text = render_job_file(jobs, size_bytes=AREA, prefill=True)
    (HERE / "suite-jobs.fio").write_text(job_text)
    real = json.loads(run_fio(job_text))
    if not re.match(r"fio-3\.3\d", real["fio version"]):
        raise SystemExit(f"need fio 3.3x to write these fixtures, have {real['fio version']}")
    tag = "fio-3.3x"
    shapes = {tag: real, "fio-3.16": as_316(real), "fio-3.1": as_31(real)}
    for version, doc in shapes.items():
        (HERE / f"{version}.jsonplus.json").write_text(dump(doc))
        (HERE / f"{version}.json.json").write_text(dump(_no_bins(doc)))
    (HERE / "fio-2.17.json.json").write_text(dump(as_217(_no_bins(real))))
    one = parse_job_set({"jobs": [dict(JOBS[0], runtime_s=3)]}, "make_fixtures.py")
    dumps = run_fio(render_job_file(one, size_bytes=AREA, prefill=False), "--status-interval=1")
    (HERE / f"{tag}.status-dumps.json").write_text(dumps)


if __name__ == "__main__":
    main()
