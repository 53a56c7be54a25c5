"""scale.bootstorm: N VMs cloned from one golden disk and started at once.

What a buyer sees after maintenance or a VDI morning: many DataVolumes cloned from one
source at the same moment, then many VMs booting and reading their image together. A
golden VM writes a seeded image range on a disk of the class and stops (CDI clones no
claim in use); then ``scale.bootstorm_vms`` VMs are created in one burst, each with a
DataVolume template cloning that claim. Per VM the check measures, from the burst's
start: the DataVolume's clone time (its own timestamps), the time to login, and the
time until the guest has read its image back (the read a booting OS does, and the
byte verification). The clone strategy CDI really used comes from each claim's
annotations (``cdi.kubevirt.io/cloneType``, ``cloneFallbackReason``), warnings from
the DataVolumes' events. ``broken`` when a clone holds the wrong bytes or a clone is
refused or never completes; ``inconclusive`` when VMs fail for non-storage reasons.
"""

from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from suite.checks.base import Cell, ClassContext, Outcome
from suite.checks.clone import _datavolume_seconds, _strategy
from suite.checks.failures import STEP_ERRORS, outcome_of
from suite.cluster.errors import KubeError
from suite.guest.pattern import zero_sha256
from suite.vm.acquire import boot_any
from suite.vm.errors import BootFailure, NoVolume
from suite.vm.evidence import short
from suite.vm.guestvm import GuestVM
from suite.vm.manifests import DataDisk

HEADROOM_BYTES = 4 << 20
SERIAL = "bootimg"
STORAGE_FAILURES = ("refused", "hung")  # the storage refused or never completed a clone


@dataclass
class Boot:
    """One VM of the storm: its figures (seconds from the burst's start) or its failure."""

    vm: str
    clone_s: float | None = None
    login_s: float | None = None
    ready_s: float | None = None
    sha: str | None = None
    strategy: dict[str, str] = field(default_factory=dict)
    failure: str | None = None
    kind: str | None = None  # refused | hung | failed | guest


def assess(ctx: ClassContext) -> list[Outcome]:
    cell = Cell("scale.bootstorm")
    try:
        golden, disk = boot_any(ctx, "golden")
    except NoVolume as error:
        return [outcome_of(cell, error)]
    try:
        try:
            image = min(ctx.profile.scale.bootstorm_image_bytes,
                        golden.probe.size(disk.serial) - HEADROOM_BYTES)
            sha = golden.probe.write(disk.serial, 0, image, f"storm-{secrets.token_hex(3)}")
            golden.stop()
        except STEP_ERRORS as error:
            return [outcome_of(cell, error, "could not prepare the golden disk")]
        cell.evidence.update(goldenClaim=disk.claim_name, imageBytes=image, sourceSha256=sha)
        boots = storm(ctx, disk, image)
    finally:
        golden.delete()
    cell.evidence.update(summarize(ctx, boots, image))
    return [judge(cell, boots, sha, image)]


def storm(ctx: ClassContext, golden: DataDisk, image: int) -> list[Boot]:
    """Create every VM in one burst, then follow each on its own thread."""
    count = ctx.profile.scale.bootstorm_vms
    vms = []
    for i in range(count):
        vm = GuestVM(ctx, f"storm{i}", [])
        vm.disks = [DataDisk(name=f"{vm.name}-img", serial=SERIAL,
                             storage_class=ctx.storage_class, volume_mode=golden.volume_mode,
                             access_mode=golden.access_mode, size_bytes=golden.size_bytes,
                             clone_from=golden.claim_name)]
        vms.append(vm)
    ctx.progress(f"bootstorm: cloning {golden.claim_name} into {count} VMs started at once")
    started = time.monotonic()
    try:
        for vm in vms:
            vm.create()
        with ThreadPoolExecutor(max_workers=count, thread_name_prefix="storm") as pool:
            boots = list(pool.map(lambda vm: _follow(ctx, vm, started, image), vms))
    finally:
        for vm in vms:
            vm.delete()
    return boots


def _follow(ctx: ClassContext, vm: GuestVM, started: float, image: int) -> Boot:
    boot = Boot(vm.name)
    disk = vm.disks[0]
    try:
        vm.wait_ready(bind_timeout_s=ctx.profile.timeouts.clone_s)
        boot.clone_s = _datavolume_seconds(ctx, disk.name)
        boot.strategy = _strategy(ctx, disk)
        vm.probe  # noqa: B018 (logs in: the login prompt, cloud-init, the probe)
        boot.login_s = round(time.monotonic() - started, 2)
        boot.sha = vm.probe.checksum(SERIAL, 0, image)
        boot.ready_s = round(time.monotonic() - started, 2)
    except BootFailure as failure:
        boot.failure, boot.kind = failure.message, failure.kind
        boot.strategy = boot.strategy or _safe_strategy(ctx, disk)
    except STEP_ERRORS as error:  # after BootFailure: the guest or the cluster
        boot.failure, boot.kind = short(error), "guest"
    finally:
        vm.close()
    return boot


def _safe_strategy(ctx: ClassContext, disk: DataDisk) -> dict[str, str]:
    try:
        return _strategy(ctx, disk)
    except KubeError:
        return {}


def figures(values: list[float]) -> dict[str, float] | None:
    """p50, p95 and max of a sample (linear interpolation between ranks, as numpy does)."""
    data = sorted(v for v in values if v is not None)
    if not data:
        return None

    def rank(q: float) -> float:
        at = (len(data) - 1) * q
        low = int(at)
        high = min(low + 1, len(data) - 1)
        return data[low] + (data[high] - data[low]) * (at - low)

    return {"p50": round(rank(0.5), 2), "p95": round(rank(0.95), 2), "max": round(data[-1], 2)}


def summarize(ctx: ClassContext, boots: list[Boot], image: int) -> dict[str, Any]:
    """The cell's evidence: figures, strategies seen, fallbacks and DataVolume warnings."""
    strategies: dict[str, int] = {}
    fallbacks: dict[str, int] = {}
    for boot in boots:
        kind = boot.strategy.get("cloneType", "unknown")
        strategies[kind] = strategies.get(kind, 0) + 1
        if boot.strategy.get("fallbackReason"):
            fallbacks[boot.strategy["fallbackReason"]] = fallbacks.get(
                boot.strategy["fallbackReason"], 0) + 1
    advertised = next((b.strategy.get("advertisedStrategy") for b in boots if b.strategy), None)
    return {"vms": len(boots), "cloneStrategies": strategies, "fallbackReasons": fallbacks,
            "advertisedStrategy": advertised,
            "cloneSeconds": figures([b.clone_s for b in boots if b.clone_s is not None]),
            "loginSeconds": figures([b.login_s for b in boots if b.login_s is not None]),
            "readySeconds": figures([b.ready_s for b in boots if b.ready_s is not None]),
            # the image read alone (ready minus login): the storage's share of the boot
            "imageReadSeconds": figures([round(b.ready_s - b.login_s, 2) for b in boots
                                         if b.ready_s is not None and b.login_s is not None]),
            "warnings": _warnings(ctx, [f"{b.vm}-img" for b in boots]),
            "perVm": [{"vm": b.vm, "cloneSeconds": b.clone_s, "loginSeconds": b.login_s,
                       "readySeconds": b.ready_s,
                       "imageReadSeconds": round(b.ready_s - b.login_s, 2)
                       if b.ready_s is not None and b.login_s is not None else None,
                       "sha256": b.sha,
                       "zeroes": b.sha == zero_sha256(image) if b.sha else None,
                       "failure": b.failure, "kind": b.kind} for b in boots]}


def _warnings(ctx: ClassContext, names: list[str]) -> dict[str, int]:
    """Warning events on the storm's DataVolumes, counted by reason (retries show here)."""
    try:
        events = ctx.kube.list("v1", "Event", ctx.namespace)
    except KubeError:
        return {}
    counts: dict[str, int] = {}
    for event in events:
        involved = event.get("involvedObject") or {}
        if event.get("type") == "Warning" and involved.get("name") in names:
            reason = str(event.get("reason") or "unknown")
            counts[reason] = counts.get(reason, 0) + int(event.get("count") or 1)
    return counts


def judge(cell: Cell, boots: list[Boot], sha: str, image: int) -> Outcome:
    """Wrong bytes or a clone the storage refused or never finished: broken."""
    total = len(boots)
    how = _how(cell.evidence)
    wrong = [b for b in boots if b.sha is not None and b.sha != sha]
    if wrong:
        zeroes = sum(1 for b in wrong if b.sha == zero_sha256(image))
        what = "hold zeroes" if zeroes == len(wrong) else "differ from the golden disk"
        return cell.done("broken", f"{len(wrong)} of {total} clones {what} ({how})")
    storage = [b for b in boots if b.kind in STORAGE_FAILURES]
    if storage:
        return cell.done("broken", f"{len(storage)} of {total} clones did not complete "
                         f"({how}): {storage[0].failure}")
    failed = [b for b in boots if b.failure]
    if failed:
        return cell.done("inconclusive", f"{len(failed)} of {total} VMs did not come up for "
                         f"a non-storage reason: {failed[0].failure}")
    login, ready = cell.evidence["loginSeconds"], cell.evidence["readySeconds"]
    return cell.done("supported", f"{total} VMs cloned ({how}) and started at once, all "
                     f"verified; login p50 {login['p50']:.1f}s p95 {login['p95']:.1f}s max "
                     f"{login['max']:.1f}s; image read p95 {ready['p95']:.1f}s")


def _how(evidence: dict[str, Any]) -> str:
    kinds = ", ".join(f"{k} x{n}" for k, n in (evidence.get("cloneStrategies") or {}).items())
    text = f"strategy {kinds or 'unknown'}"
    fallbacks = evidence.get("fallbackReasons") or {}
    if fallbacks:
        text += (f", fell back from {evidence.get('advertisedStrategy')}: "
                 f"{next(iter(fallbacks))}")
    return text
