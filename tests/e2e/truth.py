"""What a lab driver file implies for every matrix cell (docs/lab-drivers.md's tables).

Written from docs/lab-drivers.md, independently of the suite's code, so the end-to-end tests
compare the suite's verdicts with the specification rather than with itself.
"""

from __future__ import annotations

from typing import Any

MODES = {"block": "Block", "filesystem": "Filesystem"}
ACCESS = {"rwo": "ReadWriteOnce", "rwx": "ReadWriteMany"}
FAULT_CELLS = {
    "snapshot-restores-stale-data": ["snapshot.volume", "snapshot.vm"],
    "clone-returns-zeroes": ["clone.volume"],
    "online-expansion-invisible-to-guest": ["expand.online"],
    "migration-fails": ["migration.live"],
    "encryption-not-applied": ["encryption.at-rest"],
}


def _offers(driver: dict[str, Any], mode: str, access: str) -> bool:
    return access in (driver.get("modes") or {}).get(mode, [])


def _offers_rwx(driver: dict[str, Any]) -> bool:
    return any("ReadWriteMany" in access for access in (driver.get("modes") or {}).values())


def fault_free(driver: dict[str, Any]) -> dict[str, str]:
    """The fault-free truth table."""
    def verdict(ok: bool) -> str:
        return "supported" if ok else "unsupported"

    cells = {f"provision.{m}.{a}": verdict(_offers(driver, MODES[m], ACCESS[a]))
             for m in MODES for a in ACCESS}
    expansion = driver.get("expansion", "none")
    cells["expand.offline"] = verdict(expansion in ("offline", "online"))
    cells["expand.online"] = verdict(expansion == "online")
    snapshots = bool(driver.get("snapshots"))
    cells["snapshot.volume"] = cells["snapshot.vm"] = verdict(snapshots)
    cells["clone.volume"] = "supported"
    cells["migration.live"] = verdict(_offers_rwx(driver))
    cells["encryption.at-rest"] = verdict(driver.get("encryption") == "luks")
    cells["perf.fio"] = "supported"  # the lab's guests have fio
    return cells


def _without_volumes(driver: dict[str, Any], cells: dict[str, str]) -> dict[str, str]:
    """provisioning-hangs: offered modes broken; what needs a volume is skipped, while
    what discovery alone shows missing (no expansion, no snapshot class, no RWX, no
    encryption declared) stays unsupported."""
    result = dict(cells)
    for cap in cells:
        if cap.startswith("provision."):
            _, mode, access = cap.split(".")
            if _offers(driver, MODES[mode], ACCESS[access]):
                result[cap] = "broken"
            continue
        discovered_missing = {
            "expand.offline": driver.get("expansion", "none") == "none",
            "expand.online": driver.get("expansion", "none") == "none",
            "snapshot.volume": not driver.get("snapshots"),
            "snapshot.vm": not driver.get("snapshots"),
            "migration.live": not _offers_rwx(driver),
            "encryption.at-rest": driver.get("encryption", "none") != "luks",
        }.get(cap, False)
        result[cap] = "unsupported" if discovered_missing else "skipped"
    return result


def expected_cells(driver: dict[str, Any]) -> dict[str, str]:
    """Every cell's verdict for one driver entry, faults applied."""
    cells = fault_free(driver)
    faults = driver.get("faults") or []
    for fault in faults:
        for cap in FAULT_CELLS.get(fault, []):
            cells[cap] = "broken"
    if "provisioning-hangs" in faults:
        cells = _without_volumes(driver, cells)
    return cells
