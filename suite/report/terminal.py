"""The end-of-session summary table: capabilities down, StorageClasses across.

Plain text that survives a CI log: no colour codes in the cells, fixed-width columns,
short verdict words, broken cells in capitals so they stand out.
"""

from __future__ import annotations

from typing import Any

from suite.report.declared import describe
from suite.report.matrix import verdict_grid

SHORT = {"supported": "supported", "unsupported": "unsupported", "broken": "BROKEN",
         "inconclusive": "inconclusive", "skipped": "skipped", "": "-"}


def summary_lines(matrix: dict[str, Any]) -> list[str]:
    grid = verdict_grid(matrix)
    if grid.empty:
        return ["no StorageClass was assessed"]
    header = ["capability", *grid.columns]
    rows = [[cap, *(SHORT[v] for v in grid.loc[cap])] for cap in grid.index]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in rows]
    return lines


def counts_line(matrix: dict[str, Any]) -> str:
    counts: dict[str, int] = {}
    for sc in matrix["storageClasses"]:
        for cell in sc["capabilities"].values():
            counts[cell["verdict"]] = counts.get(cell["verdict"], 0) + 1
    order = ["supported", "unsupported", "broken", "inconclusive", "skipped"]
    return ", ".join(f"{counts[v]} {v}" for v in order if counts.get(v))


def disagreement_lines(matrix: dict[str, Any]) -> list[str]:
    """Cells where what the class declares and what the suite observed differ."""
    lines = []
    for sc in matrix["storageClasses"]:
        for cap, cell in sc["capabilities"].items():
            said, verdict = cell.get("declared"), cell["verdict"]
            if (said is True and verdict in ("broken", "unsupported")) or \
                    (said is False and verdict == "supported"):
                lines.append(f"  {sc['name']} {cap}: {describe(said, verdict)}")
    return ["declared vs observed differ:", *lines] if lines else []


def not_tested_lines(matrix: dict[str, Any]) -> list[str]:
    """Classes skipped as a whole because they cannot hold a VM disk, with the reason."""
    lines = [f"  {sc['name']} ({sc['provisioner']}): {sc['facts']['notForDisks']}"
             for sc in matrix["storageClasses"] if (sc.get("facts") or {}).get("notForDisks")]
    return ["not tested, cannot hold VM disks (all cells skipped):", *lines] if lines else []
