"""provision.<mode>.<access>: a VM runs with a data disk of that mode and does verified I/O.

Every volume mode x access mode is tried, declared or not (the matrix shows "undeclared,
works" too). A driver's refusal is `unsupported` with its message; a claim accepted and
never bound is `broken` after the bind timeout; a VM whose bytes do not read back as
written is `broken`. The findings feed the memo so later families skip dead modes.
"""

from __future__ import annotations

from suite.checks.base import Cell, ClassContext, Outcome
from suite.checks.failures import GUEST_IO_ERRORS, outcome_of
from suite.guest.pattern import pattern_sha256
from suite.vm.acquire import data_disk, record_boot, release
from suite.vm.errors import BootFailure
from suite.vm.guestvm import GuestVM

PAIRS = (
    ("Block", "ReadWriteOnce", "provision.block.rwo"),
    ("Block", "ReadWriteMany", "provision.block.rwx"),
    ("Filesystem", "ReadWriteOnce", "provision.filesystem.rwo"),
    ("Filesystem", "ReadWriteMany", "provision.filesystem.rwx"),
)
IO_BYTES = 4 << 20


def assess(ctx: ClassContext) -> list[Outcome]:
    started = []
    for mode, access, capability in PAIRS:
        cell = Cell(capability)
        vm = GuestVM(ctx, "prov", [])
        vm.disks = [data_disk(ctx, vm.name, mode, access)]
        vm.create()
        started.append((cell, vm, mode, access))
    ctx.progress(f"provision: {len(started)} VMs created, one per volume/access mode")
    outcomes = []
    for cell, vm, mode, access in started:
        outcome = None
        try:
            outcome = _judge(ctx, cell, vm, mode, access)
            outcomes.append(outcome)
        finally:
            if outcome is not None and outcome.verdict == "supported":
                release(ctx, vm)  # a proven VM can serve later families
            else:
                vm.delete()
    return outcomes


def _judge(ctx: ClassContext, cell: Cell, vm: GuestVM, mode: str, access: str) -> Outcome:
    what = f"{mode}/{access}"
    cell.evidence.update(vm=vm.name, claim=vm.disks[0].claim_name)
    try:
        boot_s = vm.wait_ready()
    except BootFailure as failure:
        cell.evidence.update(failure.evidence)
        if failure.kind in ("refused", "hung"):
            record_boot(ctx, mode, access, failure)
        if failure.kind == "refused":
            return cell.done("unsupported", f"{what} refused: {failure.message}")
        if failure.kind == "hung":
            return cell.done("broken", f"{what} accepted but never provisioned: "
                             f"{failure.message}")
        return cell.done("inconclusive", f"{what} VM did not start: {failure.message}")
    record_boot(ctx, mode, access, None)
    cell.evidence["bootSeconds"] = round(boot_s, 1)
    ctx.progress(f"provision: {what} VM {vm.name} running, verifying I/O")
    return _verify_io(ctx, cell, vm, what)


def _verify_io(ctx: ClassContext, cell: Cell, vm: GuestVM, what: str) -> Outcome:
    serial, seed = vm.disks[0].serial, f"prov-{vm.name[-4:]}"
    expected = pattern_sha256(seed, 0, IO_BYTES)
    try:
        written = vm.probe.write(serial, 0, IO_BYTES, seed)
        read = vm.probe.checksum(serial, 0, IO_BYTES)
        size = vm.probe.size(serial)
    except GUEST_IO_ERRORS as error:
        return outcome_of(cell, error, f"{what}: guest I/O could not run")
    claim = vm.claim(vm.disks[0]) or {}
    cell.evidence.update(writtenSha256=written, readSha256=read, expectedSha256=expected,
                         guestSizeBytes=size,
                         capacity=((claim.get("status") or {}).get("capacity") or {})
                         .get("storage"))
    if written == read == expected:
        return cell.done("supported", f"VM ran with a {what} disk; {IO_BYTES >> 20} MiB "
                         "written and read back intact")
    return cell.done("broken", f"{what}: bytes read back differ from those written "
                     f"(wrote {written[:12]}, read {read[:12]})")
