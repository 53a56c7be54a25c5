"""The built-in fio job sets, as data in the same shape a profile writes.

Why these jobs (anchors-fio.md, section 7.1): QD1 random read and write show the
latency one VM sees; a 4k fdatasync write is the database-log commit path, and
2300-byte fdatasync'd writes are etcd's WAL (full and assessment only); deep random
read and write show peak IOPS (and single-queue limits in VMs); 8k 70/30 is an
OLTP-like mix; 1M sequential shows bandwidth. Built-ins go through the same strict parser
as profile jobs, so they cannot drift from it.
"""

from __future__ import annotations

from typing import Any

_LATENCY = [
    {"name": "lat-randread", "rw": "randread", "bs": "4k", "iodepth": 1},
    {"name": "lat-randwrite", "rw": "randwrite", "bs": "4k", "iodepth": 1},
    # fdatasync after every write, one at a time: the commit latency etcd's
    # wal_fsync p99 guidance (< 10 ms) is about. direct=1 needs an aligned size,
    # so 4k stands in for etcd's 2300-byte records.
    {"name": "fsync-write", "rw": "write", "bs": "4k", "ioengine": "sync", "fdatasync": 1},
]
# etcd's WAL pattern as the common etcd disk check measures it (IBM's "Using fio to tell
# whether your storage is fast enough for etcd": `fio --rw=write --ioengine=sync
# --fdatasync=1 --bs=2300`): 2300-byte sequential writes, each followed by fdatasync,
# one at a time. 2300 is no sector multiple, so the writes are
# buffered (direct=0); the fdatasync after each one still makes every byte reach the
# storage, and the figure is the fdatasync latency (fio's `sync` section).
_ETCD = [
    {"name": "etcd-wal", "rw": "write", "bs": 2300, "ioengine": "sync", "fdatasync": 1,
     "direct": 0},
]
_THROUGHPUT = [
    {"name": "iops-randread", "rw": "randread", "bs": "4k", "iodepth": 32, "numjobs": 4},
    {"name": "iops-randwrite", "rw": "randwrite", "bs": "4k", "iodepth": 32, "numjobs": 4},
    {"name": "mix-randrw", "rw": "randrw", "bs": "8k", "rwmixread": 70, "iodepth": 16,
     "numjobs": 4},
    {"name": "bw-read", "rw": "read", "bs": "1M", "iodepth": 16, "numjobs": 4},
    {"name": "bw-write", "rw": "write", "bs": "1M", "iodepth": 16, "numjobs": 4},
]
# quick keeps one deep job per direction and one stream, single-threaded, so a
# nightly run or the default command shows latency and IOPS in ~20 s per class.
_QUICK = [
    *_LATENCY,
    {"name": "iops-randread", "rw": "randread", "bs": "4k", "iodepth": 32},
    {"name": "iops-randwrite", "rw": "randwrite", "bs": "4k", "iodepth": 32},
    {"name": "bw-read", "rw": "read", "bs": "1M", "iodepth": 8},
]


def _timed(jobs: list[dict[str, Any]], runtime_s: int, ramp_s: int) -> list[dict[str, Any]]:
    return [{**job, "runtime_s": runtime_s, "ramp_s": ramp_s} for job in jobs]


JOB_SETS: dict[str, dict[str, Any]] = {
    "quick": {"jobs": _timed(_QUICK, 3, 0), "repeats": 1},
    "full": {"jobs": _timed(_LATENCY + _ETCD + _THROUGHPUT, 20, 5), "repeats": 1},
    "assessment": {"jobs": _timed(_LATENCY + _ETCD + _THROUGHPUT, 60, 15), "repeats": 3},
}
