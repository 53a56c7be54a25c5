"""migration.storage: a running VM's disk moves from another class onto this one.

KubeVirt's volume migration (1.3+): the VM gets `spec.updateVolumesStrategy: Migration`
and its data volume (and the DataVolume template behind it) names a new DataVolume of
this class; KubeVirt copies the disk while the VM runs and points the VMI at the new
claim. The source is the cluster's default virt class
(`storageclass.kubevirt.io/is-default-virt-class`), else its default class. The guest
keeps writing a seeded sequence through the move; every block must verify afterwards
on the new disk. The profile's `storage_migration.from` may name the source class
instead. KubeVirt refusing the move (RestartRequired: the volumes cannot be
migrated) or a KubeVirt without the feature is `unsupported`.
"""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any

from suite.checks.base import Cell, ClassContext, Outcome
from suite.checks.failures import STEP_ERRORS, outcome_of
from suite.cluster.errors import WaitTimeout
from suite.guest.probe import ProbeError
from suite.vm import memo
from suite.vm.errors import BootFailure
from suite.vm.guestvm import GuestVM
from suite.vm.manifests import VM_API, DataDisk, datavolume_spec

ANN_DEFAULT_VIRT = "storageclass.kubevirt.io/is-default-virt-class"
ANN_DEFAULT = "storageclass.kubernetes.io/is-default-class"
GATES = ("VolumesUpdateStrategy", "VolumeMigration")  # needed before KubeVirt 1.5
SERIAL = "kvsmove"
LOOP_OFFSET = 1 << 20
BLOCKS = 2048  # 8 MiB of 4 KiB blocks, within the smallest disk the profiles make
WARMUP_BLOCKS = 64
WARMUP_WAIT_S = 60.0  # for the writer to start before the migration


def source_class(ctx: ClassContext) -> str | None:
    """The profile's `storage_migration.from`, else the default virt class, else the
    default class."""
    named = ctx.profile.storage_migration.from_class
    classes = ctx.kube.list("storage.k8s.io/v1", "StorageClass")
    if named:
        return named if any(sc["metadata"]["name"] == named for sc in classes) else None
    for key in (ANN_DEFAULT_VIRT, ANN_DEFAULT):
        for sc in classes:
            if ((sc.get("metadata") or {}).get("annotations") or {}).get(key) == "true":
                return str(sc["metadata"]["name"])
    return None


def feature_missing(ctx: ClassContext) -> str | None:
    virt = ctx.facts.get("virtualization") or {}
    version, gates = virt.get("kubevirtVersion") or "", virt.get("kubevirtFeatureGates")
    try:
        major, minor = (int(x) for x in version.lstrip("v").split(".")[:2])
    except ValueError:
        return None  # unknown: let KubeVirt answer
    if (major, minor) < (1, 3):
        return f"KubeVirt {version} has no volume migration (it came with 1.3)"
    if (major, minor) < (1, 5) and isinstance(gates, list):
        missing = [g for g in GATES if g not in gates]
        if missing:
            return f"KubeVirt {version} needs the {' and '.join(missing)} feature gates"
    return None


def assess(ctx: ClassContext) -> list[Outcome]:
    cell = Cell("migration.storage")
    missing = feature_missing(ctx)
    if missing:
        return [cell.done("unsupported", missing)]
    source = source_class(ctx)
    named = ctx.profile.storage_migration.from_class
    if source is None and named:
        return [cell.done("inconclusive", f"no source class: the profile's "
                          f"storage_migration.from names {named}, which the cluster lacks")]
    if source is None:
        return [cell.done("inconclusive", "no source class: the cluster has no default virt "
                          "class and no default class to move a disk from")]
    cell.evidence["sourceClass"] = source
    vm = _boot_on(ctx, source)
    if vm is None:
        return [cell.done("inconclusive", f"no VM with a disk of the source class {source} "
                          "could be started")]
    try:
        return [_move(ctx, cell, vm, source)]
    except STEP_ERRORS as error:
        return [outcome_of(cell, error)]
    finally:
        vm.delete()


def _boot_on(ctx: ClassContext, source: str) -> GuestVM | None:
    for mode in memo.MODES:
        vm = GuestVM(ctx, "move", [])
        vm.disks = [DataDisk(name=f"{vm.name}-src", serial=SERIAL, storage_class=source,
                             volume_mode=mode, access_mode="ReadWriteOnce",
                             size_bytes=ctx.profile.sizes.disk_bytes)]
        ctx.progress(f"storage migration: starting {vm.name} on {source} ({mode})")
        vm.create()
        try:
            vm.wait_ready()
            return vm
        except BootFailure:
            vm.delete()
    return None


def _target_disk(ctx: ClassContext, vm: GuestVM) -> DataDisk:
    pairs = ctx.memo.candidates(ctx.facts)
    mode, access = pairs[0] if pairs else ("Filesystem", "ReadWriteOnce")
    return DataDisk(name=f"{vm.name}-dst", serial=SERIAL, storage_class=ctx.storage_class,
                    volume_mode=mode, access_mode=access,
                    size_bytes=ctx.profile.sizes.disk_bytes)


def _move(ctx: ClassContext, cell: Cell, vm: GuestVM, source: str) -> Outcome:
    seed = f"move-{secrets.token_hex(3)}"
    vm.probe.loop_write(SERIAL, LOOP_OFFSET, BLOCKS, seed)
    vm.await_blocks(SERIAL, WARMUP_BLOCKS, WARMUP_WAIT_S)
    target = _target_disk(ctx, vm)
    volume = vm.disks[0].name
    cell.evidence.update(vm=vm.name, sourceClaim=volume, targetClaim=target.name,
                         targetMode=f"{target.volume_mode}/{target.access_mode}")
    ctx.progress(f"storage migration: moving {volume} ({source}) to {target.name}")
    started = time.monotonic()
    ctx.kube.patch(VM_API, "VirtualMachine", vm.name, _switch(ctx, vm, volume, target),
                   ctx.namespace)
    try:
        final = ctx.kube.wait_for(VM_API, "VirtualMachine", vm.name,
                                  lambda obj: _settled(ctx, vm, obj, volume, target.name),
                                  ctx.profile.timeouts.migration_s,
                                  f"the volume of {vm.name} to move", ctx.namespace)
    except WaitTimeout:
        vm.probe.loop_stop(SERIAL)
        return cell.done("broken", f"the volume migration from {source} did not finish in "
                         f"{ctx.profile.timeouts.migration_s:.0f}s")
    refused = _restart_required(final)
    if refused:
        vm.probe.loop_stop(SERIAL)
        return cell.done("unsupported", f"KubeVirt will not migrate the volume: {refused}")
    cell.evidence["migrationSeconds"] = round(time.monotonic() - started, 1)
    stopped = vm.probe.loop_stop(SERIAL).written
    try:
        verified = vm.probe.loop_verify(SERIAL, LOOP_OFFSET, stopped, seed)
    except ProbeError as error:
        return cell.done("broken", f"moved from {source}, but the written data is wrong on "
                         f"the new disk: {error.reason}")
    cell.evidence.update(blocksWritten=stopped, blocksVerified=verified)
    return cell.done("supported", f"moved a running VM's disk from {source} in "
                     f"{cell.evidence['migrationSeconds']}s while it wrote; all {stopped} "
                     "blocks verified on the new disk")


def _switch(ctx: ClassContext, vm: GuestVM, volume: str, target: DataDisk
            ) -> dict[str, Any]:
    """A merge patch: the Migration strategy, the volume and its template renamed."""
    current = ctx.kube.get(VM_API, "VirtualMachine", vm.name, ctx.namespace)
    spec = current["spec"]
    templates = [t for t in spec.get("dataVolumeTemplates") or []
                 if t["metadata"]["name"] != volume]
    templates.append({"metadata": {"name": target.name},
                      "spec": datavolume_spec(target, ctx.namespace)})
    volumes = copy.deepcopy(spec["template"]["spec"]["volumes"])
    for item in volumes:
        if item["name"] == volume:
            item["dataVolume"] = {"name": target.name}
    return {"spec": {"updateVolumesStrategy": "Migration", "dataVolumeTemplates": templates,
                     "template": {"spec": {"volumes": volumes}}}}


def _restart_required(vm: dict[str, Any]) -> str | None:
    for condition in (vm.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "RestartRequired" and condition.get("status") == "True":
            return str(condition.get("message") or "RestartRequired")
    return None


def _settled(ctx: ClassContext, vm: GuestVM, obj: dict[str, Any], volume: str,
             claim: str) -> bool:
    if _restart_required(obj):
        return True
    vmi = vm.vmi() or {}
    uses = any(v.get("name") == volume and (v.get("dataVolume") or {}).get("name") == claim
               for v in (vmi.get("spec") or {}).get("volumes") or [])
    moving = any(c.get("type") == "VolumesChange" and c.get("status") == "True"
                 for c in (vmi.get("status") or {}).get("conditions") or [])
    return uses and not moving
