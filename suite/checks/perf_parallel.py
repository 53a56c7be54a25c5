"""Parallel fio: the job set in N VMs of a class at the same time (``scale.fio_vms``).

A buyer's question is what several VMs get together, and whether one of them is
starved (a noisy neighbour). N VMs each get a data disk of the class; they wait at a
barrier so every VM's fio starts together, then run the same job set. The results are
combined by ``suite.fio.combine`` (rates added, latency histograms summed bucket by
bucket, so the merged percentiles are exact); per job the spread between VMs is the
minimum and maximum per-VM IOPS and their ratio.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from suite.checks.base import Cell, ClassContext
from suite.checks.failures import GUEST_ERRORS
from suite.cluster.errors import KubeError
from suite.fio.combine import combine_concurrent
from suite.fio.errors import FioError
from suite.fio.merge import io_latency
from suite.fio.result import PerfResult, latency_us
from suite.fio.runner import run_job_set
from suite.vm.acquire import boot_any
from suite.vm.errors import NoVolume
from suite.vm.evidence import short
from suite.vm.guestvm import GuestVM
from suite.vm.manifests import DataDisk

BARRIER_TIMEOUT_S = 600.0


def measure_parallel(ctx: ClassContext, mode: str, jobs: list, area_bytes: int,
                     execute: Any) -> tuple[PerfResult, dict[str, dict[str, Any]]]:
    """Run `jobs` in ``scale.fio_vms`` VMs with a `mode` disk at once; raises NoVolume.

    `execute(vm, disk, job_file) -> str` runs one job file in one guest (perf's own).
    Returns the combined result and, per job, the spread between the VMs.
    """
    count = ctx.profile.scale.fio_vms
    vms: list[tuple[GuestVM, DataDisk]] = []
    try:
        for i in range(count):
            vms.append(boot_any(ctx, f"pfio{i}", modes=(mode,),
                                size_bytes=ctx.profile.sizes.perf_disk_bytes))
        area = min([area_bytes, *(vm.probe.size(disk.serial) - (16 << 20) for vm, disk in vms)])
        ctx.progress(f"perf: running {len(jobs)} fio jobs in {count} VMs at once ({mode})")
        barrier = threading.Barrier(count, timeout=BARRIER_TIMEOUT_S)

        def one(pair: tuple[GuestVM, DataDisk]) -> PerfResult:
            vm, disk = pair
            barrier.wait()  # every guest is logged in: start fio together
            return run_job_set(lambda text: execute(vm, disk, text), jobs, size_bytes=area,
                               repeats=ctx.profile.fio.repeats)

        with ThreadPoolExecutor(max_workers=count, thread_name_prefix="pfio") as pool:
            futures = [pool.submit(one, pair) for pair in vms]
            results = []
            for future in futures:
                try:
                    results.append(future.result())
                except BaseException:
                    barrier.abort()  # let the other VMs give up instead of waiting
                    raise
    finally:
        for vm, _ in vms:
            vm.delete()
    return combine_concurrent(results), spread_between(results)


def spread_between(results: list[PerfResult]) -> dict[str, dict[str, Any]]:
    """Per job: each VM's IOPS and p99 (repeats merged), their min, max and max/min."""
    spread: dict[str, dict[str, Any]] = {}
    for index, job in enumerate(results[0].jobs):
        iops, p99 = [], []
        for result in results:
            merged = result.figures[index].merged
            iops.append(round(sum(d.iops for n, d in merged.dirs.items()
                                  if n in ("read", "write", "mixed")), 1))
            lat = latency_us(io_latency(merged)) or {}
            p99.append(lat.get("p99"))
        low, high = min(iops), max(iops)
        spread[job.name] = {"vms": len(results), "iopsPerVm": iops,
                            "iopsMin": low, "iopsMax": high,
                            "iopsRatio": round(high / low, 3) if low else None,
                            "p99UsPerVm": p99}
    return spread


def entries(result: PerfResult, spread: dict[str, dict[str, Any]], mode: str
            ) -> list[dict[str, Any]]:
    """matrix.json performance.fio items for the combined run, tagged with the VM count."""
    out = []
    for entry in result.matrix_entries():
        job_spread = spread.get(entry["job"], {})
        out.append({**entry, "job": f"{entry['job']}-x{job_spread.get('vms', 1)}vm",
                    "volumeMode": mode,
                    "vms": job_spread.get("vms", 1), "spreadBetweenVms": job_spread})
    return out


def run_parallel(ctx: ClassContext, cell: Cell, mode: str, jobs: list, area_bytes: int,
                 execute: Any) -> None:
    """Measure and publish; a failure is recorded in the perf cell's evidence, never
    raised: the single-VM figures already decided the cell."""
    try:
        result, spread = measure_parallel(ctx, mode, jobs, area_bytes, execute)
    except (NoVolume, *GUEST_ERRORS, KubeError, FioError,
            threading.BrokenBarrierError) as error:  # evidence of the run, no verdict
        cell.evidence["parallel"] = {"vms": ctx.profile.scale.fio_vms, "mode": mode,
                                     "error": short(error)}
        return
    published = entries(result, spread, mode)
    ctx.performance.extend(published)
    ctx.fio_rows.extend({**row, "volumeMode": mode, "vms": ctx.profile.scale.fio_vms}
                        for row in result.csv_rows(ctx.storage_class))
    cell.evidence["parallel"] = {"vms": ctx.profile.scale.fio_vms, "mode": mode,
                                 "jobs": [e["job"] for e in published],
                                 "iopsRatio": {k: v["iopsRatio"] for k, v in spread.items()}}
