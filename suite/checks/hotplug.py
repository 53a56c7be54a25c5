"""hotplug.volume: a blank DataVolume of the class added to a running VM, used, removed.

What `virtctl addvolume` does (the VMI's `addvolume` subresource of
subresources.kubevirt.io): the volume must reach `Ready` in the VMI's volumeStatus, the
guest must then see the disk by its serial, write and read back a seeded range, and
after `removevolume` the guest must no longer see it. A disk reported Ready that the
guest never sees, bytes that differ, or a disk that stays after removal are `broken`;
KubeVirt refusing because the `HotplugVolumes` gate is off is `unsupported`.
"""

from __future__ import annotations

import time
from typing import Any

from suite.checks.base import Cell, ClassContext, Outcome
from suite.checks.failures import STEP_ERRORS, outcome_of
from suite.checks.gates import gate_off, gate_off_reason
from suite.cluster.errors import KubeError, WaitTimeout
from suite.cluster.waits import poll_until
from suite.guest.probe import ProbeError
from suite.vm.acquire import boot_any, release
from suite.vm.errors import NoVolume
from suite.vm.guestvm import GuestVM
from suite.vm.manifests import VM_API, DataDisk, datavolume

GATE = "HotplugVolumes"
SERIAL = "kvshotplug"
DATA_BYTES = 4 << 20
SEEN_WAIT_S = 30.0  # a real guest's udev may name the disk a moment after Ready
SEEN_POLL_S = 1.0
MISSING = 3  # the probe's exit status for a disk it cannot find


class Refused(Exception):
    """KubeVirt refused the hotplug request cleanly (400/409/422)."""



def assess(ctx: ClassContext) -> list[Outcome]:
    cell = Cell("hotplug.volume")
    if gate_off(ctx, GATE):
        return [cell.done("unsupported", gate_off_reason(GATE, "volumes cannot be hotplugged"))]
    try:
        vm, disk = boot_any(ctx, "hotplug")
    except NoVolume as error:
        return [outcome_of(cell, error)]
    keep = False
    try:
        outcome = _hotplug(ctx, cell, vm, disk)
        keep = outcome.verdict == "supported"
        return [outcome]
    except Refused as refusal:
        return [cell.done("unsupported", f"KubeVirt refused the hotplug: {refusal}")]
    except STEP_ERRORS as error:
        return [outcome_of(cell, error)]
    finally:
        if keep:
            release(ctx, vm)
        else:
            vm.delete()


def _hotplug(ctx: ClassContext, cell: Cell, vm: GuestVM, disk: DataDisk) -> Outcome:
    volume = f"{vm.name}-hp"
    extra = DataDisk(name=volume, serial=SERIAL, storage_class=ctx.storage_class,
                     volume_mode=disk.volume_mode, access_mode=disk.access_mode,
                     size_bytes=ctx.profile.sizes.disk_bytes)
    ctx.kube.create(datavolume(extra, ctx.namespace))
    cell.evidence.update(vm=vm.name, dataVolume=volume,
                         mode=f"{disk.volume_mode}/{disk.access_mode}")
    _ = vm.probe  # log in before the disk arrives
    ctx.progress(f"hotplug: adding {volume} to {vm.name}")
    started = time.monotonic()
    _call(ctx, vm, "addvolume", {
        "name": volume, "disk": {"name": volume, "serial": SERIAL, "disk": {"bus": "virtio"}},
        "volumeSource": {"dataVolume": {"name": volume, "hotpluggable": True}}})
    try:
        entry = _wait_entry(ctx, vm, volume, lambda e: (e or {}).get("phase") == "Ready",
                            "to become Ready")
    except WaitTimeout as timeout:
        last = _entry_of(timeout.last, volume) or {}
        cell.evidence["volumeStatus"] = last
        return cell.done("broken", f"hotplugged volume not Ready after "
                         f"{ctx.profile.timeouts.bind_s:.0f}s (phase "
                         f"{last.get('phase') or 'none'}: {last.get('message') or 'no message'})")
    ready_s = time.monotonic() - started
    cell.evidence.update(readySeconds=round(ready_s, 1), target=entry.get("target"),
                         attachPod=(entry.get("hotplugVolume") or {}).get("attachPodName"))
    if not _sees(vm, True):
        return cell.done("broken", f"volumeStatus says Ready after {ready_s:.0f}s but the guest "
                         f"never saw disk virtio-{SERIAL}")
    sha = vm.probe.write(SERIAL, 0, DATA_BYTES, f"hotplug-{vm.name}")
    read = vm.probe.checksum(SERIAL, 0, DATA_BYTES)
    cell.evidence.update(writtenSha256=sha, readSha256=read)
    if read != sha:
        return cell.done("broken", f"the hotplugged disk returned other bytes than written "
                         f"(wrote {sha[:12]}, read {read[:12]})")
    removed = time.monotonic()
    _call(ctx, vm, "removevolume", {"name": volume})
    _wait_entry(ctx, vm, volume, lambda e: e is None, "to be removed")
    if _sees(vm, False):
        return cell.done("broken", f"volume removed from the VMI but the guest still sees "
                         f"virtio-{SERIAL}")
    cell.evidence["removeSeconds"] = round(time.monotonic() - removed, 1)
    return cell.done("supported", f"hotplugged a {disk.volume_mode}/{disk.access_mode} "
                     f"DataVolume: Ready in {ready_s:.0f}s, {DATA_BYTES >> 20} MiB verified "
                     "in the guest, unplugged cleanly")


def _call(ctx: ClassContext, vm: GuestVM, verb: str, body: dict[str, Any]) -> None:
    try:
        ctx.kube.subresource(VM_API, "VirtualMachineInstance", vm.name, verb,
                             body=body, namespace=ctx.namespace)
    except KubeError as error:
        if error.status in (400, 409, 422):
            raise Refused(f"{verb}: {error.message}") from error
        raise


def _entry_of(vmi: dict[str, Any] | None, volume: str) -> dict[str, Any] | None:
    entries = ((vmi or {}).get("status") or {}).get("volumeStatus") or []
    return next((e for e in entries if e.get("name") == volume), None)


def _wait_entry(ctx: ClassContext, vm: GuestVM, volume: str, wanted: Any,
                what: str) -> dict[str, Any]:
    found = ctx.kube.wait_for(VM_API, "VirtualMachineInstance", vm.name,
                              lambda vmi: wanted(_entry_of(vmi, volume)),
                              ctx.profile.timeouts.bind_s, f"volume {volume} {what}",
                              ctx.namespace)
    return _entry_of(found, volume) or {}


def _sees(vm: GuestVM, wanted: bool) -> bool:
    """Whether the guest sees the disk, waiting a little for it to become `wanted`."""
    def seen() -> bool:
        try:
            vm.probe.size(SERIAL)
        except ProbeError as error:
            if error.code != MISSING:
                raise
            return False
        return True

    return poll_until(seen, lambda now: now == wanted, timeout_s=SEEN_WAIT_S,
                      interval_s=SEEN_POLL_S, what=f"the guest of {vm.name} to "
                      f"{'see' if wanted else 'lose'} disk {SERIAL}",
                      cancel=vm.ctx.cancelled, last_on_timeout=True)
