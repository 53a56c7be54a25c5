"""clone.volume: a DataVolume cloned from a written PVC must hold the same bytes.

The source VM writes a seeded range and stops (CDI will not clone a claim in use by a
running pod), then a second VM boots with a DataVolume template cloning that claim and
reads the range back. The strategy CDI really used is read from the target claim's
`cdi.kubevirt.io/cloneType` annotation (with `cloneFallbackReason` when it fell back),
not from what the StorageProfile advertises, and named in the reason with the time.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime

from suite.checks.base import Cell, ClassContext, Outcome
from suite.checks.failures import STEP_ERRORS, outcome_of
from suite.cluster.errors import KubeError
from suite.guest.pattern import zero_sha256
from suite.vm import claims
from suite.vm.acquire import boot_any
from suite.vm.errors import BootFailure, NoVolume
from suite.vm.guestvm import GuestVM
from suite.vm.manifests import CDI_API, DataDisk

DATA_BYTES = 8 << 20
CLONE_TYPE = "cdi.kubevirt.io/cloneType"
FALLBACK = "cdi.kubevirt.io/cloneFallbackReason"


def assess(ctx: ClassContext) -> list[Outcome]:
    cell = Cell("clone.volume")
    try:
        source, disk = boot_any(ctx, "clonesrc")
    except NoVolume as error:
        return [outcome_of(cell, error)]
    try:
        return [_clone(ctx, cell, source, disk)]
    except STEP_ERRORS as error:
        return [outcome_of(cell, error)]
    finally:
        source.delete()


def _clone(ctx: ClassContext, cell: Cell, source: GuestVM, disk: DataDisk) -> Outcome:
    sha = source.probe.write(disk.serial, 0, DATA_BYTES, f"clone-{secrets.token_hex(3)}")
    source.stop()
    target = GuestVM(ctx, "clonedst", [])
    target.disks = [DataDisk(name=f"{target.name}-clone", serial="clone",
                             storage_class=ctx.storage_class, volume_mode=disk.volume_mode,
                             access_mode=disk.access_mode, size_bytes=disk.size_bytes,
                             clone_from=disk.claim_name)]
    ctx.progress(f"clone: cloning {disk.claim_name} into {target.disks[0].name}")
    started = time.monotonic()
    target.create()
    try:
        try:
            target.wait_ready(bind_timeout_s=ctx.profile.timeouts.clone_s)
        except BootFailure as failure:
            cell.evidence.update(failure.evidence, **_strategy(ctx, target.disks[0]))
            return cell.done("broken", f"clone did not complete: {failure.message}")
        clone_s = time.monotonic() - started
        read = target.probe.checksum("clone", 0, DATA_BYTES)
        strategy = _strategy(ctx, target.disks[0])
        cell.evidence["dataVolumeSeconds"] = _datavolume_seconds(ctx, target.disks[0].name)
    finally:
        target.delete()
    cell.evidence.update(strategy, sourceClaim=disk.claim_name, targetClaim=target.disks[0].name,
                         sourceSha256=sha, cloneSha256=read,
                         secondsUntilCloneReadable=round(clone_s, 1))
    return _judge(cell, sha, read, strategy, clone_s)


def _strategy(ctx: ClassContext, disk: DataDisk) -> dict[str, str]:
    claim = claims.get_claim(ctx.kube, disk.claim_name, ctx.namespace) or {}
    annotations = (claim.get("metadata") or {}).get("annotations") or {}
    if CLONE_TYPE not in annotations:  # CDI copies them to the DataVolume as well
        try:
            dv = ctx.kube.get(CDI_API, "DataVolume", disk.name, ctx.namespace)
            annotations = {**((dv.get("metadata") or {}).get("annotations") or {}),
                           **annotations}
        except KubeError:
            pass
    profile = ctx.facts.get("storageProfile") or {}
    found = {"cloneType": annotations.get(CLONE_TYPE, "unknown"),
             "advertisedStrategy": str(profile.get("cloneStrategy") or "unset")}
    if annotations.get(FALLBACK):
        found["fallbackReason"] = annotations[FALLBACK]
    return found


def _datavolume_seconds(ctx: ClassContext, name: str) -> float | None:
    """Creation to Ready=True of the clone's DataVolume, from its own timestamps."""
    try:
        dv = ctx.kube.get(CDI_API, "DataVolume", name, ctx.namespace)
    except KubeError:
        return None
    created = _time((dv.get("metadata") or {}).get("creationTimestamp"))
    ready = next((c.get("lastTransitionTime") for c in (dv.get("status") or {})
                  .get("conditions") or [] if c.get("type") == "Ready"
                  and c.get("status") == "True"), None)
    if created is None or _time(ready) is None:
        return None
    return round((_time(ready) - created).total_seconds(), 1)  # type: ignore[operator]


def _time(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def _judge(cell: Cell, sha: str, read: str, strategy: dict[str, str], clone_s: float
           ) -> Outcome:
    how = f"strategy {strategy['cloneType']}"
    if strategy.get("fallbackReason"):
        how += f" (fell back from {strategy['advertisedStrategy']}: {strategy['fallbackReason']})"
    if read == sha:
        took = cell.evidence.get("dataVolumeSeconds")
        when = f"DataVolume ready in {took:.0f}s" if isinstance(took, float) else (
            f"readable in a VM after {clone_s:.0f}s")
        return cell.done("supported", f"clone verified, {how}, {when}")
    if read == zero_sha256(DATA_BYTES):
        return cell.done("broken", f"clone holds zeroes instead of the source's data ({how})")
    return cell.done("broken", f"clone differs from its source (source {sha[:12]}, clone "
                     f"{read[:12]}; {how})")
