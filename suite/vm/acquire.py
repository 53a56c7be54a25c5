"""Getting a running VM with a working data disk of the class, whatever mode works.

Families other than provision need *a* volume, not a particular mode. They try the
class's modes in the memo's order and give up with the reasons seen, which the family
reports as `skipped` ("no volume of the class could be provisioned") or, when the
family needs a mode the class refuses (RWX for migration), as `unsupported`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from suite.vm import memo
from suite.vm.errors import BootFailure, NoVolume
from suite.vm.guestvm import GuestVM
from suite.vm.manifests import DataDisk

if TYPE_CHECKING:
    from suite.checks.base import ClassContext

SERIAL = "kvsdata"


def data_disk(ctx: ClassContext, vm_name: str, mode: str, access: str,
              size_bytes: int | None = None, suffix: str = "data",
              serial: str = SERIAL) -> DataDisk:
    return DataDisk(name=f"{vm_name}-{suffix}", serial=serial,
                    storage_class=ctx.storage_class, volume_mode=mode, access_mode=access,
                    size_bytes=size_bytes or ctx.profile.sizes.disk_bytes)


def record_boot(ctx: ClassContext, mode: str, access: str, failure: BootFailure | None) -> None:
    finding = memo.Finding("ok") if failure is None else memo.Finding(failure.kind,
                                                                      failure.message)
    ctx.memo.record(mode, access, finding)


def boot_any(ctx: ClassContext, role: str, *, access: tuple[str, ...] = ("ReadWriteOnce",),
             modes: tuple[str, ...] = memo.MODES, size_bytes: int | None = None
             ) -> tuple[GuestVM, DataDisk]:
    """A running VM (not yet logged in) with one data disk; raises NoVolume."""
    attempts: dict[str, str] = {}
    kinds: set[str] = set()
    for (mode, acc), finding in ctx.memo.findings().items():
        if mode in modes and acc in access and finding.status in ("refused", "hung"):
            attempts[f"{mode}/{acc}"] = f"{finding.status} earlier: {finding.message}"
            kinds.add(finding.status)
    pairs = ctx.memo.candidates(ctx.facts, modes=modes, access=access)
    reused = _reusable(ctx, pairs, size_bytes)
    if reused is not None:
        ctx.progress(f"{role}: reusing running VM {reused.name}")
        return reused, reused.disks[0]
    for mode, acc in pairs:
        vm = GuestVM(ctx, role, [])
        vm.disks = [data_disk(ctx, vm.name, mode, acc, size_bytes)]
        ctx.progress(f"{role}: starting VM {vm.name} with a {mode}/{acc} disk")
        if not start_and_wait(ctx, vm, mode, acc, attempts, kinds):
            continue
        record_boot(ctx, mode, acc, None)
        return vm, vm.disks[0]
    raise NoVolume(attempts, kinds)


def _reusable(ctx: ClassContext, pairs: list[tuple[str, str]], size_bytes: int | None
              ) -> GuestVM | None:
    if not ctx.profile.reuse_vms:
        return None
    wanted = size_bytes or ctx.profile.sizes.disk_bytes
    while (vm := ctx.pool.take(pairs, wanted)) is not None:
        if ((vm.vmi() or {}).get("status") or {}).get("phase") == "Running":
            return vm
        vm.delete()  # it stopped or failed since it was handed back: not worth judging on
    return None


def release(ctx: ClassContext, vm: GuestVM) -> None:
    """Hand a VM that is as it was back for reuse, or delete it when reuse is off."""
    if ctx.profile.reuse_vms and not ctx.cancelled.is_set():
        if not vm.pooled:  # once: the class's cleanup forgets it and closes its console
            vm.pooled = True
            ctx.kube.cleanup.push(f"close console of {vm.name}",
                                  lambda: ctx.pool.discard(vm))
        ctx.pool.put(vm)
    else:
        vm.delete()


def start_and_wait(ctx: ClassContext, vm: GuestVM, mode: str, acc: str,
                   attempts: dict[str, str], kinds: set[str]) -> bool:
    """Create `vm` and wait until its guest is logged in. A failed boot deletes the VM,
    remembers refusals and hangs for the class (later families skip that mode) and adds
    the failure to `attempts` and `kinds`, from which NoVolume explains itself."""
    vm.create()
    try:
        vm.wait_ready()
    except BootFailure as failure:
        vm.delete()
        if failure.kind in ("refused", "hung"):
            record_boot(ctx, mode, acc, failure)
        attempts[f"{mode}/{acc}"] = f"{failure.kind}: {failure.message}"
        kinds.add(failure.kind)
        return False
    return True
