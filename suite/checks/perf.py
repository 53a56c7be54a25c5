"""perf.fio: the profile's fio job set, run inside a VM on a data disk of the class.

fio runs in the guest through the probe (`kvs-probe fio`), so the numbers are what a VM
sees, on each volume mode the class offers (Block and Filesystem, each entry tagged
with `volumeMode`). The measuring and merging is `suite.fio`'s; this family only
provides the disk and the transport. A guest without fio is `inconclusive` with the
fix, never a crash.
"""

from __future__ import annotations

from suite.checks.base import Cell, ClassContext, Outcome
from suite.checks.failures import GUEST_ERRORS
from suite.cluster.errors import KubeError
from suite.fio.compat import refusal_in
from suite.fio.errors import FioError
from suite.fio.runner import FioUnavailable, PerfResult, run_job_set
from suite.guest.probe import FIO_NOT_FOUND, ProbeError
from suite.vm.acquire import boot_any, release
from suite.vm.errors import NoVolume
from suite.vm.evidence import short
from suite.vm.guestvm import GuestVM
from suite.vm.manifests import DataDisk

MODES = ("Block", "Filesystem")
HEADROOM_BYTES = 16 << 20
DEFAULT_AREA_BYTES = 1 << 30  # when the profile's fio section gives no sizeMiB


def assess(ctx: ClassContext) -> list[Outcome]:
    cell = Cell("perf.fio")
    jobs = list(ctx.profile.fio.jobs)
    if not jobs:
        return [cell.done("skipped", "the profile defines no fio jobs")]
    ran: dict[str, PerfResult] = {}
    for mode in MODES:
        missing = missing_fio(ctx)
        if missing:  # known from an earlier login: no VM to boot, no wait
            return [cell.done("inconclusive", missing)]
        try:
            result = _measure(ctx, cell, mode, jobs)
        except FioUnavailable as error:
            return [cell.done("inconclusive", missing_fio(ctx) or str(error))]
        except (*GUEST_ERRORS, KubeError, FioError) as error:  # evidence of the mode, no verdict
            cell.evidence.setdefault("errors", {})[mode] = short(error)
            continue
        if result is not None:
            ran[mode] = result
            _publish(ctx, mode, result)
    if ran and ctx.profile.scale.fio_vms > 1:  # the same jobs in N VMs at once
        from suite.checks.perf_parallel import run_parallel

        area = ctx.profile.fio.size_bytes or DEFAULT_AREA_BYTES
        run_parallel(ctx, cell, next(iter(ran)), jobs, area,
                     lambda vm, disk, text: _execute(ctx, vm, disk, text))
    return [_verdict(cell, ran)]


def _measure(ctx: ClassContext, cell: Cell, mode: str, jobs: list) -> PerfResult | None:
    try:
        vm, disk = boot_any(ctx, "perf", modes=(mode,),
                            size_bytes=ctx.profile.sizes.perf_disk_bytes)
    except NoVolume as error:
        where = "errors" if error.verdict == "inconclusive" else "notRun"
        cell.evidence.setdefault(where, {})[mode] = str(error)
        return None
    try:
        wanted = ctx.profile.fio.size_bytes or DEFAULT_AREA_BYTES
        area = min(wanted, vm.probe.size(disk.serial) - HEADROOM_BYTES)
        if missing_fio(ctx):  # this login was the class's first: say so before any fio
            raise FioUnavailable("fio: not found")
        ctx.progress(f"perf: running {len(jobs)} fio jobs on a {mode} disk of {vm.name}")
        result = run_job_set(lambda text: _execute(ctx, vm, disk, text), jobs, size_bytes=area,
                             repeats=ctx.profile.fio.repeats)
        cell.evidence.setdefault("vms", {})[mode] = vm.name
    except BaseException:
        vm.delete()
        raise
    release(ctx, vm)
    return result


def missing_fio(ctx: ClassContext) -> str | None:
    """Why the guest has no fio and how to fix it, when a login showed it missing."""
    tools = ctx.guest_tools
    if tools is None:  # no login yet: nothing known
        return None
    guest = ctx.profile.guest
    uses_libaio = any(job.ioengine == "libaio" for job in ctx.profile.fio.jobs)
    if tools.fio and not tools.libaio and uses_libaio:
        return (f"fio in the guest image {guest.image} cannot load its libaio engine, which "
                "the job set uses; add fio-engine-libaio to guest.packages (Fedora) or use "
                "an image whose fio has it")
    if tools.fio:
        return None
    packages = list(guest.packages)
    tried = (f"cloud-init could not install {', '.join(packages)} "
             f"(cloud-init status: {tools.cloud_init or 'unknown'})" if packages
             else "guest.packages is empty")
    return (f"fio is not in the guest image {guest.image} and {tried}; set guest.image to "
            "an image that contains fio (air-gapped clusters: a mirrored one) or make "
            "guest.packages installable")


def _execute(ctx: ClassContext, vm: GuestVM, disk: DataDisk, job_file: str) -> str:
    try:
        return vm.probe.fio(disk.serial, job_file, ctx.profile.timeouts.fio_s)
    except ProbeError as error:
        if error.code == FIO_NOT_FOUND:
            raise FioUnavailable(error.reason) from None
        if (too_old := refusal_in(error.reason)) is not None:  # fio 2.x refuses the job file
            raise too_old from None
        raise


def _publish(ctx: ClassContext, mode: str, result: PerfResult) -> None:
    ctx.performance.extend({**entry, "volumeMode": mode} for entry in result.matrix_entries())
    ctx.fio_rows.extend({**row, "volumeMode": mode} for row in result.csv_rows(ctx.storage_class))


def _verdict(cell: Cell, ran: dict[str, PerfResult]) -> Outcome:
    if not ran:
        if cell.evidence.get("errors"):
            return cell.done("inconclusive", f"fio could not run: {cell.evidence['errors']}")
        return cell.done("skipped", "no volume of the class could be provisioned for fio")
    summary = []
    for mode, result in ran.items():
        first = result.matrix_entries()[0]
        p99 = (first.get("latencyUs") or {}).get("p99")
        shown = f"{p99 / 1000:.2f} ms" if isinstance(p99, int | float) else "n/a"
        summary.append(f"{mode}: {len(result.figures)} jobs ({first['job']} p99 {shown})")
        cell.evidence.setdefault("fioVersion", result.fio_version)
        cell.evidence.setdefault("wallSeconds", {})[mode] = round(result.wall_s, 1)
    return cell.done("supported", "fio ran in the guest; " + "; ".join(summary))
