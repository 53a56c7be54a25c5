"""One fio job as plain data.

A job is data, not code: profiles list jobs as mappings, the suite turns them
into `FioJob` values once (strictly validated in `jobs.py`), and the same value
renders the job file, labels the figures and is recorded beside them so a
reader can rerun exactly what was measured.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

RW_MODES = ("read", "write", "randread", "randwrite", "rw", "randrw")
IOENGINES = ("libaio", "io_uring", "psync", "sync", "pvsync", "pvsync2", "posixaio")
SYNC_ENGINES = ("psync", "sync", "pvsync", "pvsync2")

_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_SIZE = re.compile(r"^\s*(\d+)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_size(value: object) -> int:
    """Bytes from an int or an fio-style size string ("4k", "1M", "2300", "1GiB").

    fio's default kb_base is 1024, so "4k" is 4096 here exactly as fio reads it.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a size like 4k or 1M, got {value!r}")
    if isinstance(value, int):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"expected a size like 4k or 1M, got {value!r}")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


@dataclass(frozen=True)
class FioJob:
    """What fio runs for one figure; sizes in bytes, times in seconds."""

    name: str
    rw: str
    bs: int
    iodepth: int = 1
    numjobs: int = 1
    rwmixread: int | None = None
    runtime_s: int = 20
    ramp_s: int = 0
    fdatasync: int = 0
    ioengine: str = "libaio"
    size: int | None = None
    offset: int = 0
    direct: int = 1  # 0 only for fdatasync'd writes of a size no sector divides (jobs.py)

    @property
    def is_random(self) -> bool:
        return self.rw.startswith("rand")

    @property
    def reads(self) -> bool:
        return self.rw in ("read", "randread", "rw", "randrw")

    @property
    def writes(self) -> bool:
        return self.rw in ("write", "randwrite", "rw", "randrw")

    @property
    def outstanding(self) -> int:
        """I/Os in flight by design: a sync engine keeps one per job whatever iodepth says."""
        depth = 1 if self.ioengine in SYNC_ENGINES else self.iodepth
        return depth * self.numjobs

    def options(self) -> dict[str, object]:
        """The job's settings as recorded beside its figures (None values dropped)."""
        return {k: v for k, v in asdict(self).items() if v is not None}
