"""snapshot.volume and snapshot.vm: a restore must hold the bytes of snapshot time.

Both cells write seed A, snapshot, write seed B, restore, and read: A is `supported`;
B (the restore followed the live volume) or anything else (zeroes, the volume's birth
state) is `broken` with all checksums as evidence. A class without a
VolumeSnapshotClass for its driver is `unsupported`; a VM snapshot that left the data
disk out is never `supported`.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable

from suite.checks.base import Cell, ClassContext, Outcome
from suite.checks.failures import STEP_ERRORS, outcome_of, outcomes_of
from suite.guest.pattern import zero_sha256
from suite.vm import snapshots
from suite.vm.acquire import boot_any
from suite.vm.errors import BootFailure, NoVolume
from suite.vm.guestvm import GuestVM
from suite.vm.manifests import DataDisk

DATA_BYTES = 8 << 20


def assess(ctx: ClassContext) -> list[Outcome]:
    volume, whole_vm = Cell("snapshot.volume"), Cell("snapshot.vm")
    snapshot_class = snapshots.class_for(ctx)
    try:
        vm, disk = boot_any(ctx, "snap")
    except NoVolume as error:
        return outcomes_of((volume, whole_vm), error)
    try:
        return [_guarded(volume, lambda: _volume(ctx, volume, vm, disk, snapshot_class)),
                _guarded(whole_vm, lambda: _whole_vm(ctx, whole_vm, vm, disk, snapshot_class))]
    finally:
        vm.delete()


def _guarded(cell: Cell, step: Callable[[], Outcome]) -> Outcome:
    cell.restart()
    try:
        return step()
    except STEP_ERRORS as error:  # StepFailed keeps its verdict (a snapshot the storage failed)
        return outcome_of(cell, error)


def judge_restore(cell: Cell, read: str, at_snapshot: str, after: str, what: str) -> Outcome:
    """The one rule for every restore: the bytes of snapshot time, nothing else."""
    cell.evidence.update(snapshotTimeSha256=at_snapshot, afterSnapshotSha256=after,
                         restoredSha256=read)
    if read == at_snapshot:
        return cell.done("supported", f"{what} restored the data of snapshot time "
                         f"({DATA_BYTES >> 20} MiB verified)")
    if read == after:
        return cell.done("broken", f"{what} restore holds data written after the snapshot")
    if read == zero_sha256(DATA_BYTES):
        return cell.done("broken", f"{what} restore holds zeroes, not the data of snapshot "
                         "time (stale or empty volume)")
    return cell.done("broken", f"{what} restore holds neither the snapshot's data nor later "
                     f"data (read {read[:12]}, expected {at_snapshot[:12]})")


def _volume(ctx: ClassContext, cell: Cell, vm: GuestVM, disk: DataDisk,
            snapshot_class: str | None) -> Outcome:
    if not snapshot_class:
        return cell.done("unsupported", "no VolumeSnapshotClass for driver "
                         f"{ctx.facts.get('provisioner', '?')}")
    tag = secrets.token_hex(3)
    sha_a = vm.probe.write(disk.serial, 0, DATA_BYTES, f"vsnap-a-{tag}")
    ctx.progress(f"snapshot: taking VolumeSnapshot of {disk.claim_name}")
    taken = snapshots.take_volume_snapshot(ctx, cell, disk.claim_name, snapshot_class)
    sha_b = vm.probe.write(disk.serial, 0, DATA_BYTES, f"vsnap-b-{tag}")
    restored = snapshots.restore_claim(ctx, taken, disk)
    reader = GuestVM(ctx, "snaprd", [DataDisk(name="restored", serial="restored",
                                              claim=restored)])
    reader.create()
    try:
        try:
            reader.wait_ready(bind_timeout_s=ctx.profile.timeouts.restore_s)
        except BootFailure as failure:
            cell.evidence.update(failure.evidence)
            return cell.done("broken", f"restore of snapshot {taken['metadata']['name']} "
                             f"failed: {failure.message}")
        read = reader.probe.checksum("restored", 0, DATA_BYTES)
    finally:
        reader.delete()
    cell.evidence.update(restoredClaim=restored)
    return judge_restore(cell, read, sha_a, sha_b, "VolumeSnapshot")


def _whole_vm(ctx: ClassContext, cell: Cell, vm: GuestVM, disk: DataDisk,
              snapshot_class: str | None) -> Outcome:
    tag = secrets.token_hex(3)
    sha_c = vm.probe.write(disk.serial, 0, DATA_BYTES, f"vmsnap-c-{tag}")
    ctx.progress(f"snapshot: taking VirtualMachineSnapshot of running {vm.name}")
    taken = snapshots.take_vm_snapshot(ctx, cell, vm.name, disk.name, snapshot_class)
    sha_d = vm.probe.write(disk.serial, 0, DATA_BYTES, f"vmsnap-d-{tag}")
    vm.stop()
    restore = snapshots.restore_vm(ctx, cell, vm.name, taken)
    new_claim = snapshots.restored_claim(restore, disk.name)
    cell.evidence.update(restoredClaim=new_claim)
    if new_claim:
        vm.disks = [dataclasses.replace(disk, claim=new_claim)]
    try:
        vm.start()
    except BootFailure as failure:
        return cell.done("broken", f"VM did not start from the restore: {failure.message}")
    read = vm.probe.checksum(disk.serial, 0, DATA_BYTES)
    return judge_restore(cell, read, sha_c, sha_d, "VirtualMachineSnapshot")
