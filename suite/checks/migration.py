"""migration.live: a VirtualMachineInstanceMigration while the guest writes; data verified.

Live migration needs shared (ReadWriteMany) storage. A class with no RWX mode that
provisions, or a VMI that KubeVirt marks `LiveMigratable=False`, is `unsupported` with
that reason. Otherwise the guest keeps writing numbered, flushed blocks through the
migration; afterwards every block written must read back as written. A Failed
migration is `broken` with KubeVirt's failure reason.
"""

from __future__ import annotations

import contextlib
import secrets
import time

from suite.checks.base import Cell, ClassContext, Outcome
from suite.checks.failures import STEP_ERRORS, outcome_of
from suite.cluster.errors import BadRequest, Invalid, WaitTimeout
from suite.guest.console import ConsoleError
from suite.guest.probe import ProbeError
from suite.vm.acquire import boot_any, release
from suite.vm.errors import NoVolume
from suite.vm.guestvm import GuestVM
from suite.vm.manifests import VM_API, DataDisk, migration
from suite.vm.naming import unique_name

LOOP_OFFSET = 16 << 20
MAX_BLOCKS = 1 << 20  # the writer must outlast the migration; verify streams
WARMUP_BLOCKS = 16
WARMUP_WAIT_S = 60.0  # for the writer to start before the migration
AFTER_BLOCKS = 16
AFTER_WAIT_S = 60.0


UNSCHEDULABLE_EVENT = "migrationTargetPodUnschedulable"  # KubeVirt's Warning reason


def assess(ctx: ClassContext) -> list[Outcome]:
    cell = Cell("migration.live")
    nodes = (ctx.facts.get("virtualization") or {}).get("schedulableNodes")
    if isinstance(nodes, list) and len(nodes) < 2:  # the environment's limit, not storage's
        return [cell.done("inconclusive", f"live migration needs a second schedulable node; "
                          f"the cluster has {len(nodes)} ({', '.join(nodes) or 'none'})",
                          schedulableNodes=nodes)]
    try:
        vm, disk = boot_any(ctx, "migr", access=("ReadWriteMany",))
    except NoVolume as error:
        return [_no_volume(cell, error)]
    outcome = None
    try:
        outcome = _migrate(ctx, cell, vm, disk)
        return [outcome]
    except STEP_ERRORS as error:
        return [outcome_of(cell, error)]
    finally:
        if outcome is not None and outcome.verdict in ("supported", "unsupported"):
            release(ctx, vm)
        else:
            vm.delete()


def _no_volume(cell: Cell, error: NoVolume) -> Outcome:
    cell.evidence["attempts"] = error.attempts
    if error.kinds and error.kinds <= {"refused"}:
        detail = "; ".join(error.attempts.values())
        return cell.done("unsupported", f"class offers no ReadWriteMany volume: {detail}")
    return cell.done(error.verdict, f"no ReadWriteMany volume could be provisioned: {error}")


def _live_migratable(vmi: dict) -> tuple[bool, str]:
    for condition in (vmi.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "LiveMigratable" and condition.get("status") == "False":
            return False, f"{condition.get('reason', '')}: {condition.get('message', '')}"
    return True, ""


def _migrate(ctx: ClassContext, cell: Cell, vm: GuestVM, disk: DataDisk) -> Outcome:
    vmi = vm.vmi() or {}
    ok, why = _live_migratable(vmi)
    cell.evidence.update(vm=vm.name, claim=disk.claim_name, volumeMode=disk.volume_mode,
                         sourceNode=(vmi.get("status") or {}).get("nodeName"))
    if not ok:
        return cell.done("unsupported", f"VMI is not live-migratable: {why}")
    seed = f"migr-{secrets.token_hex(3)}"
    blocks = min(MAX_BLOCKS, (vm.probe.size(disk.serial) - LOOP_OFFSET) // 4096)
    vm.probe.loop_write(disk.serial, LOOP_OFFSET, blocks, seed)
    before = vm.await_blocks(disk.serial, WARMUP_BLOCKS, WARMUP_WAIT_S)
    vm.close()  # the console may drop when the VMI moves; log in again afterwards
    result = _run_migration(ctx, cell, vm)
    if isinstance(result, Outcome):
        _stop_quietly(vm, disk)
        return result
    after = vm.await_blocks(disk.serial, before + AFTER_BLOCKS, AFTER_WAIT_S)
    stopped = vm.probe.loop_stop(disk.serial).written
    cell.evidence.update(blocksBeforeMigration=before, blocksSeenAfter=after,
                         blocksWritten=stopped)
    source, target = cell.evidence.get("sourceNode"), cell.evidence.get("targetNode")
    if not target or target == source:
        return cell.done("broken", f"migration reported Succeeded but the VMI is still on "
                         f"{target or 'no node'}")
    if after <= before:
        return cell.done("broken", f"the guest's writes stopped at block {before} and did "
                         "not resume after the migration")
    try:
        verified = vm.probe.loop_verify(disk.serial, LOOP_OFFSET, stopped, seed)
    except ProbeError as error:
        return cell.done("broken", f"migration succeeded but written data is wrong: "
                         f"{error.reason}")
    cell.evidence["blocksVerified"] = verified
    return cell.done("supported", f"migrated {cell.evidence['sourceNode']} -> "
                     f"{cell.evidence.get('targetNode')} in {cell.evidence['migrationSeconds']}s "
                     f"while writing; all {stopped} blocks verified")


def _migration_done(obj: dict) -> bool:
    return (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def _run_migration(ctx: ClassContext, cell: Cell, vm: GuestVM) -> Outcome | None:
    name = unique_name(ctx.storage_class, "vmim")
    ctx.progress(f"migration: migrating {vm.name} while its guest writes")
    started = time.monotonic()
    try:
        ctx.kube.create(migration(name, ctx.namespace, vm.name))
    except (BadRequest, Invalid) as refused:
        return cell.done("unsupported", f"migration refused: {refused.message}")
    cell.evidence["migration"] = name
    try:
        final = ctx.kube.wait_for(VM_API, "VirtualMachineInstanceMigration", name,
                                  _migration_done, ctx.profile.timeouts.migration_s,
                                  f"migration {name}", ctx.namespace)
    except WaitTimeout as timeout:
        phase = ((timeout.last or {}).get("status") or {}).get("phase")
        unschedulable = _target_unschedulable(ctx, timeout.last)
        if unschedulable:
            return cell.done("inconclusive", unschedulable)
        return cell.done("broken", f"migration {name} still {phase} after "
                         f"{ctx.profile.timeouts.migration_s:.0f}s")
    cell.evidence["migrationSeconds"] = round(time.monotonic() - started, 1)
    status = final.get("status") or {}
    cell.evidence["phases"] = [p.get("phase") for p in status.get("phaseTransitionTimestamps")
                               or []]
    cell.evidence["targetNode"] = (vm.vmi() or {}).get("status", {}).get("nodeName")
    if status.get("phase") == "Failed":
        unschedulable = _target_unschedulable(ctx, final)
        if unschedulable:
            return cell.done("inconclusive", unschedulable)
        state = status.get("migrationState") or {}
        reason = state.get("failureReason") or _vmi_failure(vm) or "no reason recorded"
        return cell.done("broken", f"migration {name} Failed: {reason}")
    return None


def _target_unschedulable(ctx: ClassContext, migration_obj: dict | None) -> str | None:
    """The environment's reason when KubeVirt could not place the target pod (no node
    with room, affinity): not the storage's fault, so the cell cannot be decided."""
    if not migration_obj:
        return None
    said = [e.get("message", "") for e in ctx.kube.events_for(migration_obj)
            if str(e.get("reason", "")).lower() == UNSCHEDULABLE_EVENT.lower()]
    if not said:
        return None
    return (f"the migration's target pod could not be scheduled ({said[-1]}); the "
            "cluster lacks a node with room for a second copy of the VM")


def _vmi_failure(vm: GuestVM) -> str:
    state = ((vm.vmi() or {}).get("status") or {}).get("migrationState") or {}
    return str(state.get("failureReason") or "")


def _stop_quietly(vm: GuestVM, disk: DataDisk) -> None:
    with contextlib.suppress(ConsoleError, ProbeError):  # the VM is deleted next anyway
        vm.probe.loop_stop(disk.serial)
