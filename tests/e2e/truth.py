"""What a lab driver file implies for every matrix cell (DESIGN.md's truth and fault tables,
"Noise", "Driver `type`" and "The `cluster` section").

Written from DESIGN.md, independently of the suite's code, so the end-to-end tests
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
    cells["perf.fio"] = "supported"  # fio in the image, or installed by cloud-init
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


DEFAULT_IMAGE = "quay.io/containerdisks/fedora:41"
DEFAULT_IMAGES = {DEFAULT_IMAGE: {"fio": False}}


def _apply_cluster(driver: dict[str, Any], cells: dict[str, str], cluster: dict[str, Any],
                   guest_image: str) -> dict[str, str]:
    """The `cluster` section's table: what the environment makes undecidable."""
    result = dict(cells)
    if cluster.get("schedulableNodes", 3) < 2:
        result["migration.live"] = "inconclusive"
    gates = cluster.get("featureGates")
    if gates is not None and "ExpandDisks" not in gates:
        if driver.get("expansion", "none") == "online":
            result["expand.online"] = "inconclusive"
        if result["expand.offline"] != "unsupported" and \
                not (driver.get("modes") or {}).get("Block"):
            result["expand.offline"] = "inconclusive"
    image_has_fio = (cluster.get("images") or DEFAULT_IMAGES).get(guest_image, {}).get("fio")
    if cluster.get("guestPackages", "connected") == "air-gapped" and not image_has_fio:
        result["perf.fio"] = "inconclusive"
    return result


def expected_cells(driver: dict[str, Any], cluster: dict[str, Any] | None = None,
                   guest_image: str = DEFAULT_IMAGE) -> dict[str, str]:
    """Every cell's verdict for one driver entry, faults and the cluster applied.

    `noise` never changes a verdict; a class whose `type` is not `csi` cannot hold a VM
    disk, so every one of its cells is `skipped`."""
    cells = fault_free(driver)
    if driver.get("type", "csi") != "csi":
        return dict.fromkeys(cells, "skipped")
    faults = driver.get("faults") or []
    for fault in faults:
        for cap in FAULT_CELLS.get(fault, []):
            cells[cap] = "broken"
    if "provisioning-hangs" in faults:
        cells = _without_volumes(driver, cells)
    return _apply_cluster(driver, cells, cluster or {}, guest_image)


# The VM-feature cells (issue 14), kept apart from `expected_cells` so the first-round
# truth tests, whose profile does not run these families, compare what they ran.
FEATURE_FAULT_CELLS = {
    "hotplug-disk-invisible": ["hotplug.volume"],
    "export-serves-stale-data": ["export.vm"],
}


def vm_feature_cells(driver: dict[str, Any], cluster: dict[str, Any] | None = None
                     ) -> dict[str, str]:
    """`hotplug.volume` (and `export.vm`): supported when the cluster's feature gates
    include the feature's gate (a missing `featureGates` means the default set, which
    has both), `unsupported` otherwise; the fault turns only its own cell broken. A class
    that cannot hold a VM disk is `skipped`, as for every other cell."""
    gates = (cluster or {}).get("featureGates")
    cells = {"hotplug.volume": "HotplugVolumes", "export.vm": "VMExport"}
    result = {cap: "supported" if gates is None or gate in gates else "unsupported"
              for cap, gate in cells.items()}
    if driver.get("type", "csi") != "csi":
        return dict.fromkeys(result, "skipped")
    for fault in driver.get("faults") or []:
        for cap in FEATURE_FAULT_CELLS.get(fault, []):
            if result[cap] == "supported":
                result[cap] = "broken"
    return result
