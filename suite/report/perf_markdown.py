"""The performance section as Markdown, and the per-job table model the HTML shares.

Both renderers read the same rows from matrix.json's `performance.fio` items,
so the Markdown and the HTML can never disagree about a figure. Latencies are
microseconds; percentiles come from merged fio histograms (see suite/fio).
"""

from __future__ import annotations

from typing import Any

LAT_KEYS = ("p50", "p90", "p99", "p99.9", "p99.99", "max")
VALIDITY_KEYS = ("prefill", "health", "littlesLaw", "latencyFloor", "repeatSpread")
MISSING = "-"


def _label(storage_class: str, entry: dict[str, Any]) -> str:
    """The class, with the volume mode when the perf check measured several."""
    mode = entry.get("volumeMode")
    return f"{storage_class} ({mode})" if mode else storage_class


def jobs_by_name(matrix: dict[str, Any]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """job name -> [(label, entry)], jobs in first-seen order, classes in matrix order.

    The label is the StorageClass name, plus the volume mode when the entry has one.
    """
    jobs: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for sc in matrix.get("storageClasses", []):
        for entry in (sc.get("performance") or {}).get("fio", []) or []:
            label = _label(str(sc.get("name", "?")), entry)
            jobs.setdefault(str(entry.get("job", "?")), []).append((label, entry))
    return jobs


def failed_checks(entry: dict[str, Any]) -> list[str]:
    """"name: detail" for every validity check that did not pass."""
    validity = entry.get("validity") or {}
    return [f"{name}: {check.get('detail', '')}" for name, check in validity.items()
            if isinstance(check, dict) and check.get("ok") is False]


def _num(value: Any, digits: int = 1) -> str:
    if value is None or value == "":
        return MISSING
    number = float(value)
    return f"{number:,.{digits}f}" if number < 100_000 else f"{number:,.0f}"


def perf_row(storage_class: str, entry: dict[str, Any]) -> dict[str, str]:
    """One table row of display strings for a class's figure of one job."""
    lat = entry.get("latencyUs") or {}
    row = {"StorageClass": storage_class,
           "read IOPS": _num(entry.get("readIops"), 0),
           "write IOPS": _num(entry.get("writeIops"), 0),
           "read MiB/s": _num(entry.get("readBwMiBs")),
           "write MiB/s": _num(entry.get("writeBwMiBs"))}
    row.update({f"{key} µs": _num(lat.get(key)) for key in LAT_KEYS})
    sync = entry.get("syncLatencyUs")
    if sync:
        row["fdatasync p99 µs"] = _num(sync.get("p99"))
    spread = entry.get("spreadBetweenVms")
    if spread:  # parallel fio (suite/checks/perf_parallel.py): aggregate of N VMs at once
        row["VMs"] = str(spread.get("vms", ""))
        row["IOPS per VM min/max"] = (f"{_num(spread.get('iopsMin'), 0)} / "
                                      f"{_num(spread.get('iopsMax'), 0)}")
        row["max/min"] = _num(spread.get("iopsRatio"), 2)
    failed = failed_checks(entry)
    row["valid"] = "yes" if not failed else "NO: " + "; ".join(failed)
    return row


def _table(rows: list[dict[str, str]]) -> list[str]:
    headers = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        cells = [row.get(h, MISSING).replace("|", "\\|") for h in headers]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _options(entries: list[tuple[str, dict[str, Any]]]) -> str:
    options = entries[0][1].get("options") or {}
    shown = [f"{k}={options[k]}" for k in ("rw", "bs", "iodepth", "numjobs", "rwmixread",
                                             "ioengine", "fdatasync", "runtime_s", "ramp_s")
             if options.get(k) not in (None, 0, "") or k in ("iodepth", "numjobs")]
    version = entries[0][1].get("fioVersion", "")
    repeats = entries[0][1].get("repeats", 1)
    return f"`{' '.join(shown)}`, {repeats} repeat(s), {version}"


def render(matrix: dict[str, Any]) -> str:
    """The performance tables (one per fio job, classes side by side) in Markdown."""
    jobs = jobs_by_name(matrix)
    lines = ["## Performance (fio)", ""]
    if not jobs:
        return "\n".join([*lines, "No fio figures in this run.", ""])
    lines += ["Latency is total I/O latency in microseconds; percentiles are read from "
              "fio's merged latency histograms (repeats combined), never averaged.", ""]
    for name, entries in jobs.items():
        lines += [f"### {name}", "", _options(entries), ""]
        lines += [*_table([perf_row(sc, entry) for sc, entry in entries]), ""]
    return "\n".join(lines)
