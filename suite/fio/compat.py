"""Where fio 3.x keeps each figure the suite reads, version by version.

Guest images carry old fio: Ubuntu 18.04 has 3.1, CentOS 7 3.7, Ubuntu 20.04
3.16, Fedora 41 3.3x. fio's JSON changed under the same key names between
those releases (axboe/fio `stat.c`, `show_ddir_status_json` /
`add_ddir_status_json`); reading only the newest layout silently loses data:

* `N` (sample count of `slat_ns`/`clat_ns`/`lat_ns`) exists only from fio 3.18
  (commit 56440e63). Before that the count is the direction's `total_ios`, or
  the sum of the json+ histogram bins, which is the very same count.
* `bw_bytes` exists only from fio 3.2; fio 3.1 prints `bw` in KiB/s, rounded
  down from `1000 * io_bytes / runtime`, the formula 3.2 prints as `bw_bytes`.
* With `lat_percentiles=1`, fio 3.1 to 3.12 print the total-latency percentiles
  under `clat_ns` (they were computed from total latencies; commit e5eb6fbf in
  3.13 moved them to `lat_ns`), and fio 3.1 also prints the json+ `bins` there
  (commit 24cab44e in 3.2 moved them to `lat_ns`).
* fio 3.1 to 3.3 pad the `percentile` object to 20 entries with `"0.00": 0`
  (dropped by commit 702bd977 in 3.4); those are not percentiles.
* fio < 3.18 prints no count of the fsync/fdatasync calls: its `sync` object's
  `total_ios` counts only sync I/Os issued as such (`rw=trim`-style), so it
  stays 0 for `fdatasync=N` jobs. fio issues one such call after every N
  writes (`io_u.c`, `get_rw_ddir`), so the count is the writes // N (exact up
  to the last one of a run).
* fio 2.x reports latency in microseconds under `clat`/`lat`, has no `*_ns`
  objects and no comparable histogram: the suite does not read it.
"""

from __future__ import annotations

import re
from typing import Any

from suite.fio.errors import FioUnsupportedVersion

MINIMUM = (3, 1)  # lat_percentiles, which every job file of the suite sets, came in fio 3.1
_VERSION = re.compile(r"^fio-(\d+)\.(\d+)")
_MENTIONED = re.compile(r"\bfio-\d+\.\d+[^\s,;:)]*")
_OFF = ("0", "false", "no", "off")


def version_tuple(version: str) -> tuple[int, int]:
    """(major, minor) from "fio-3.33" or a git build like "fio-3.6-31-g4386"."""
    match = _VERSION.match(version)
    if not match:
        raise FioUnsupportedVersion(version, "the version cannot be read")
    return int(match.group(1)), int(match.group(2))


def require_supported(version: str) -> tuple[int, int]:
    """The version as a tuple, or a one-line refusal for fio 2.x and unreadable versions."""
    parsed = version_tuple(version)
    if parsed < (3, 0):
        raise FioUnsupportedVersion(version, "fio 2.x reports latency in microseconds "
                                    "without the *_ns figures and histograms the suite reads")
    if parsed < MINIMUM:
        raise FioUnsupportedVersion(version, "it has no lat_percentiles option, which the "
                                    "suite's job files set")
    return parsed


def refusal_in(message: str) -> FioUnsupportedVersion | None:
    """The refusal for a too-old fio named in a failure message ("fio failed (fio-2.17):
    Bad option <lat_percentiles=1>"): fio 2.x dies on the job file before any JSON."""
    match = _MENTIONED.search(message)
    if match is None:
        return None
    try:
        require_supported(match.group(0))
    except FioUnsupportedVersion as refusal:
        return refusal
    return None


def option_on(options: dict[str, Any], name: str) -> bool | None:
    """A boolean fio option as given in a job file ("" is a bare flag); None if absent."""
    if name not in options:
        return None
    return str(options[name]).strip().lower() not in _OFF


def lat_percentiles_on(global_options: dict[str, Any], job_options: dict[str, Any]) -> bool:
    """Whether the job measured total-latency percentiles (job options override global)."""
    on = option_on(job_options, "lat_percentiles")
    return bool(on if on is not None else option_on(global_options, "lat_percentiles"))


def percentile_map(raw: Any) -> dict[float, int]:
    """fio's `percentile` object without the `"0.00": 0` padding of fio 3.1 to 3.3."""
    if not isinstance(raw, dict):
        return {}
    out = {float(k): int(v) for k, v in raw.items()}
    return {k: v for k, v in out.items() if k > 0}


def bins_map(raw: Any) -> dict[int, int]:
    """The json+ histogram: bucket value in ns -> sample count."""
    if not isinstance(raw, dict):
        return {}
    return {int(k): int(v) for k, v in raw.items() if int(v)}


def total_latency_tables(direction: dict[str, Any], lat_pct: bool
                         ) -> tuple[dict[float, int], dict[int, int]]:
    """Percentiles and bins of total latency, wherever this fio version printed them."""
    lat = direction.get("lat_ns") or {}
    pct, bins = percentile_map(lat.get("percentile")), bins_map(lat.get("bins"))
    if lat_pct:
        # fio < 3.13 (percentiles) and fio 3.1 (bins) printed them under clat_ns; with
        # lat_percentiles on, fio filled that histogram with total latencies.
        clat = direction.get("clat_ns") or {}
        pct = pct or percentile_map(clat.get("percentile"))
        bins = bins or bins_map(clat.get("bins"))
    return pct, bins


def sample_count(lat: dict[str, Any], bins: dict[int, int], total_ios: int) -> int:
    """`N` (fio >= 3.18), else the histogram's count, else the direction's I/O count."""
    if "N" in lat:
        return int(lat["N"])
    if bins:
        return sum(bins.values())
    return total_ios


def sync_calls(job_options: dict[str, Any], global_options: dict[str, Any],
               write_ios: int) -> int:
    """How many fsync/fdatasync calls fio made for `write_ios` writes (see above)."""
    for name in ("fdatasync", "fsync"):
        value = job_options.get(name, global_options.get(name))
        if value is not None and str(value).isdigit() and int(value) > 0:
            return write_ios // int(value)
    return 0


def bandwidth_bytes(direction: dict[str, Any]) -> float:
    """Bytes per second: `bw_bytes` (fio >= 3.2), else fio's own formula from io_bytes and
    runtime, else `bw` (KiB/s) scaled."""
    if "bw_bytes" in direction:
        return float(direction["bw_bytes"])
    runtime_ms = int(direction.get("runtime", 0))
    if runtime_ms and "io_bytes" in direction:
        return float(1000 * int(direction["io_bytes"]) // runtime_ms)
    return float(direction.get("bw", 0)) * 1024
