"""expand.offline / expand.online: the guest sees the new size and the old data is intact.

One VM serves both cells, offline first: a resize refused while the VM runs stays
pending in the claim's spec and would complete during a later stop, which would blur
the offline result. The PVC's capacity is the storage's claim; the guest's block size
and a checksum of data written before are the measurement.

Only final refusals count (`suite.vm.claims`): a retried resize error just makes the
wait go on. Once the PVC and the VMI's `volumeStatus` both report the new size, the
platform has done its part and the guest gets `timeouts.expand_grace_s` to see it,
not the whole `expand_s`. Growth is judged by KubeVirt's sizing rule
(`suite.vm.growth`). Without KubeVirt's `ExpandDisks` gate (GA from 1.9) a running VM
is never told its disk grew and a Filesystem disk's `disk.img` is not grown at boot:
those cells are `inconclusive`, naming the gate, once the storage itself has grown.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from suite.checks.base import Cell, ClassContext, Outcome
from suite.checks.failures import GUEST_ERRORS, outcomes_of
from suite.cluster.errors import Forbidden, Invalid
from suite.cluster.waits import poll_until
from suite.quantity import parse_quantity
from suite.vm import claims
from suite.vm.acquire import boot_any
from suite.vm.errors import NoVolume
from suite.vm.growth import Expectation, claim_overhead
from suite.vm.guestvm import GuestVM
from suite.vm.manifests import DataDisk

if TYPE_CHECKING:  # the profile imports the check catalogue; a runtime import would cycle
    from suite.config.profile import Timeouts

DATA_BYTES = 4 << 20
CLAIM_POLL_S = 1.0  # the claim's capacity and events, while the resizer works
GUEST_POLL_S = 2.0  # the guest's view of the disk size (a console command each time)
GATE_OFF = ("KubeVirt's ExpandDisks feature gate is off (not in the KubeVirt CR's "
            "featureGates)")


def gate_off(ctx: ClassContext) -> bool:
    """True when discovery found the gate missing (unknown counts as on)."""
    return (ctx.facts.get("virtualization") or {}).get("expandDisks") is False


def assess(ctx: ClassContext) -> list[Outcome]:
    offline, online = Cell("expand.offline"), Cell("expand.online")
    try:
        vm, disk = boot_any(ctx, "expand")
    except NoVolume as error:
        return outcomes_of((offline, online), error)
    try:
        sha = vm.probe.write(disk.serial, 0, DATA_BYTES, "expand-before")
        sizes = ctx.profile.sizes
        step = sizes.expanded_disk_bytes - sizes.disk_bytes
        step = step if step > 0 else 1 << 30  # a profile that does not grow still tests 1 GiB
        results = [_offline(ctx, offline, vm, disk, sha, step)]
        online.restart()
        results.append(_online(ctx, online, vm, disk, sha, step))
        return results
    except GUEST_ERRORS as error:  # only the guest's: a cluster error is a check error here
        return outcomes_of((offline, online), error, "guest step failed")
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
    def sample() -> tuple[bool, str | None, dict]:
        claim = claims.get_claim(ctx.kube, disk.claim_name, ctx.namespace) or {}
        if _controller_done(claim, wanted):
            return True, None, claim
        return False, claims.resize_refusal(ctx.kube, claim), claim

    return poll_until(sample, lambda seen: seen[0] or bool(seen[1]), timeout_s=timeout_s,
                      interval_s=CLAIM_POLL_S, what=f"claim {disk.claim_name} to grow",
                      cancel=ctx.cancelled, last_on_timeout=True)


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
    if gate_off(ctx) and disk.volume_mode == "Filesystem":
        return cell.done("inconclusive", f"{GATE_OFF}: KubeVirt does not grow a Filesystem "
                         f"disk's disk.img at boot without it; {_storage_did(claim, wanted)}",
                         guestSizeBefore=before, claim=claims.claim_summary(claim))
    return _await_guest(ctx, cell, vm, disk, sha, before, step, wanted, "after a restart")


def _online(ctx: ClassContext, cell: Cell, vm: GuestVM, disk: DataDisk, sha: str,
            step: int) -> Outcome:
    before = vm.probe.size(disk.serial)
    ctx.progress(f"expand: growing the disk of running {vm.name}")
    wanted, refused = _grow(ctx, cell, disk, step)
    if refused:
        return cell.done("unsupported", f"expansion refused: {refused}", guestSizeBefore=before)
    if gate_off(ctx):  # the guest cannot be told; judge what the storage did
        timeout_s = ctx.profile.timeouts.expand_s
        grown, refusal, claim = _storage_grown(ctx, disk, wanted, timeout_s)
        if not grown:
            return _not_grown(cell, refusal, claim, before, timeout_s)
        return cell.done("inconclusive", f"{GATE_OFF}: a running VM is not told that its "
                         f"disk grew; {_storage_did(claim, wanted)}",
                         guestSizeBefore=before, claim=claims.claim_summary(claim))
    return _await_guest(ctx, cell, vm, disk, sha, before, step, wanted, "while running")


def _storage_did(claim: dict, wanted: int) -> str:
    capacity = claims.capacity(claim) or "unknown"
    if parse_quantity(claims.capacity(claim) or "0") >= wanted:
        return f"the storage grew (PVC capacity {capacity})"
    return (f"the storage grew its side to {wanted} bytes (PVC capacity {capacity} until a "
            "pod mounts it: FileSystemResizePending)")


def _platform_reports(claim: dict, vmi: dict | None, name: str, wanted: int) -> bool:
    """The PVC's capacity and (when KubeVirt reports the claim) the VMI's volumeStatus
    both show at least `wanted` bytes: from here on only the guest is waited for."""
    if parse_quantity(claims.capacity(claim) or "0") < wanted:
        return False
    for entry in ((vmi or {}).get("status") or {}).get("volumeStatus") or []:
        info = entry.get("persistentVolumeClaimInfo") or {}
        if info.get("claimName") == name:
            return parse_quantity((info.get("capacity") or {}).get("storage") or "0") >= wanted
    return True


def _await_guest(ctx: ClassContext, cell: Cell, vm: GuestVM, disk: DataDisk, sha: str,
                 before: int, step: int, wanted: int, when: str) -> Outcome:
    """Poll the guest's size until it shows the growth, a final refusal shows, or time
    is up: `expand_s` in all, `expand_grace_s` once the platform reports the new size."""
    timeouts = ctx.profile.timeouts
    deadline, grace_end = time.monotonic() + timeouts.expand_s, float("inf")

    def sample() -> Outcome | None:
        nonlocal grace_end
        claim = claims.get_claim(ctx.kube, disk.claim_name, ctx.namespace) or {}
        vmi = vm.vmi()
        size = vm.probe.size(disk.serial)
        expect = Expectation(disk.volume_mode, before, step,
                             parse_quantity(claims.capacity(claim) or "0"),
                             claim_overhead(vmi, disk.claim_name))
        if expect.grown(size):
            cell.evidence.update(expect.evidence(size))
            return _judge(cell, vm, disk, sha, before, size, claim, when)
        refusal = claims.resize_refusal(ctx.kube, claim)
        if refusal:
            return cell.done("unsupported", f"expansion refused: {refusal}",
                             guestSizeBefore=before, claim=claims.claim_summary(claim))
        now = time.monotonic()
        if grace_end == float("inf") and _platform_reports(claim, vmi, disk.claim_name,
                                                           wanted):
            grace_end = now + timeouts.expand_grace_s
        if now > min(deadline, grace_end):
            return cell.done("broken", _unseen(claim, size, when, timeouts, grace_end < deadline),
                             guestSizeBefore=before, guestSizeAfter=size,
                             claim=claims.claim_summary(claim), **expect.evidence(size))
        return None

    # The deadline moves (the grace starts when the platform reports the size), so the
    # sample itself decides when the wait is over.
    outcome = poll_until(sample, lambda decided: decided is not None, timeout_s=None,
                         interval_s=GUEST_POLL_S, what=f"the guest to see {vm.name}'s disk grow",
                         cancel=ctx.cancelled)
    assert outcome is not None
    return outcome


def _unseen(claim: dict, size: int, when: str, timeouts: Timeouts, in_grace: bool) -> str:
    capacity = claims.capacity(claim) or "unchanged"
    if in_grace:
        return (f"PVC and VMI report {capacity} but the guest still sees {size} bytes "
                f"{timeouts.expand_grace_s:.0f}s later ({when})")
    return (f"guest still sees {size} bytes {timeouts.expand_s:.0f}s after the resize "
            f"({when}); PVC capacity {capacity}")


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
