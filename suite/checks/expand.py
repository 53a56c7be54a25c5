"""expand.offline / expand.online: the guest sees the new size and the old data is intact.

One VM serves both cells, offline first: a resize refused while the VM runs stays
pending in the claim's spec and would complete during a later stop, which would blur
the offline result. The PVC's capacity is the storage's claim; the guest's block size
and a checksum of data written before are the measurement.
"""

from __future__ import annotations

import time

from suite.checks.base import Cell, ClassContext, Outcome
from suite.cluster.errors import Forbidden, Invalid
from suite.guest.console import ConsoleError
from suite.guest.probe import ProbeError
from suite.quantity import parse_quantity
from suite.vm import claims
from suite.vm.acquire import NoVolume, boot_any
from suite.vm.evidence import short
from suite.vm.guestvm import BootFailure, GuestVM
from suite.vm.manifests import DataDisk

DATA_BYTES = 4 << 20
GROWTH_SHARE = 0.9  # a Filesystem disk.img grows by (1 - overhead) of the claim's growth


def assess(ctx: ClassContext) -> list[Outcome]:
    offline, online = Cell("expand.offline"), Cell("expand.online")
    try:
        vm, disk = boot_any(ctx, "expand")
    except NoVolume as error:
        return [c.done(error.verdict, str(error)) for c in (offline, online)]
    try:
        sha = vm.probe.write(disk.serial, 0, DATA_BYTES, "expand-before")
        sizes = ctx.profile.sizes
        step = sizes.expanded_disk_bytes - sizes.disk_bytes
        step = step if step > 0 else 1 << 30  # a profile that does not grow still tests 1 GiB
        results = [_offline(ctx, offline, vm, disk, sha, step)]
        online.restart()
        results.append(_online(ctx, online, vm, disk, sha, step))
        return results
    except (ConsoleError, ProbeError, BootFailure) as error:
        reason = f"guest step failed: {short(error)}"
        return [offline.done("inconclusive", reason), online.done("inconclusive", reason)]
    finally:
        vm.delete()


def _grow(ctx: ClassContext, cell: Cell, disk: DataDisk, step: int) -> tuple[int, str | None]:
    """Ask for `step` more bytes; returns (requested bytes, refusal message or None)."""
    claim = claims.get_claim(ctx.kube, disk.claim_name, ctx.namespace) or {}
    wanted = parse_quantity(claims.capacity(claim) or "0") + step
    cell.evidence.update(storageClassAllowsExpansion=ctx.facts.get("allowVolumeExpansion"),
                         requestedBytes=wanted)
    try:
        ctx.kube.patch("v1", "PersistentVolumeClaim", disk.claim_name,
                       {"spec": {"resources": {"requests": {"storage": str(wanted)}}}},
                       ctx.namespace)
    except (Forbidden, Invalid) as error:
        return wanted, error.message
    return wanted, None


def _controller_done(claim: dict, wanted: int) -> bool:
    """The storage grew: capacity reached, or only the node (filesystem) step is left,
    which real kubelets finish when a pod (the VM) next mounts the claim."""
    if parse_quantity(claims.capacity(claim) or "0") >= wanted:
        return True
    return any(c.get("type") == "FileSystemResizePending" and c.get("status") == "True"
               for c in (claim.get("status") or {}).get("conditions") or [])


def _storage_grown(ctx: ClassContext, disk: DataDisk, wanted: int, timeout_s: float
                   ) -> tuple[bool, str | None, dict]:
    deadline = time.monotonic() + timeout_s
    while True:
        claim = claims.get_claim(ctx.kube, disk.claim_name, ctx.namespace) or {}
        if _controller_done(claim, wanted):
            return True, None, claim
        refusal = claims.resize_refusal(ctx.kube, claim)
        if refusal or time.monotonic() > deadline:
            return False, refusal, claim
        time.sleep(1.0)


def _offline(ctx: ClassContext, cell: Cell, vm: GuestVM, disk: DataDisk, sha: str,
             step: int) -> Outcome:
    before = vm.probe.size(disk.serial)
    ctx.progress(f"expand: stopping {vm.name} to grow its disk offline")
    vm.stop()
    wanted, refused = _grow(ctx, cell, disk, step)
    if refused:
        vm.start()
        return cell.done("unsupported", f"expansion refused: {refused}", guestSizeBefore=before)
    grown, refusal, claim = _storage_grown(ctx, disk, wanted, ctx.profile.timeouts.expand_s)
    vm.start()
    if not grown:
        return _not_grown(cell, refusal, claim, before, ctx.profile.timeouts.expand_s)
    return _await_guest(ctx, cell, vm, disk, sha, before, step, "after a restart")


def _online(ctx: ClassContext, cell: Cell, vm: GuestVM, disk: DataDisk, sha: str,
            step: int) -> Outcome:
    before = vm.probe.size(disk.serial)
    ctx.progress(f"expand: growing the disk of running {vm.name}")
    _, refused = _grow(ctx, cell, disk, step)
    if refused:
        return cell.done("unsupported", f"expansion refused: {refused}", guestSizeBefore=before)
    return _await_guest(ctx, cell, vm, disk, sha, before, step, "while running")


def _await_guest(ctx: ClassContext, cell: Cell, vm: GuestVM, disk: DataDisk, sha: str,
                 before: int, step: int, when: str) -> Outcome:
    """Poll the guest's size until it shows the growth, a refusal shows, or time is up."""
    timeout_s = ctx.profile.timeouts.expand_s
    deadline = time.monotonic() + timeout_s
    while True:
        claim = claims.get_claim(ctx.kube, disk.claim_name, ctx.namespace) or {}
        size = vm.probe.size(disk.serial)
        if size >= before + GROWTH_SHARE * step:
            return _judge(cell, vm, disk, sha, before, size, claim, when)
        refusal = claims.resize_refusal(ctx.kube, claim)
        if refusal:
            return cell.done("unsupported", f"expansion refused: {refusal}",
                             guestSizeBefore=before, claim=claims.claim_summary(claim))
        if time.monotonic() > deadline:
            return cell.done(
                "broken", f"guest still sees {size} bytes {timeout_s:.0f}s after the resize "
                f"({when}); PVC capacity {claims.capacity(claim) or 'unchanged'}",
                guestSizeBefore=before, guestSizeAfter=size, claim=claims.claim_summary(claim))
        time.sleep(2.0)


def _not_grown(cell: Cell, refusal: str | None, claim: dict, before: int, timeout_s: float
               ) -> Outcome:
    if refusal:
        return cell.done("unsupported", f"expansion refused: {refusal}", guestSizeBefore=before,
                         claim=claims.claim_summary(claim))
    return cell.done("broken", f"resize accepted but PVC capacity stayed "
                     f"{claims.capacity(claim)} for {timeout_s:.0f}s",
                     guestSizeBefore=before, claim=claims.claim_summary(claim))


def _judge(cell: Cell, vm: GuestVM, disk: DataDisk, sha: str, before: int, after: int,
           claim: dict, when: str) -> Outcome:
    """The guest already shows the growth (``after``, measured by the caller); check data."""
    read = vm.probe.checksum(disk.serial, 0, DATA_BYTES)
    cell.evidence.update(guestSizeBefore=before, guestSizeAfter=after, writtenSha256=sha,
                         readSha256=read, claim=claims.claim_summary(claim))
    if read != sha:
        return cell.done("broken", f"disk grew {when} but data written before changed "
                         f"(wrote {sha[:12]}, read {read[:12]})")
    return cell.done("supported", f"guest disk grew {when} from {before} to {after} bytes; "
                     "old data intact")
