"""Benchmark of the lab's data plane: per-operation timings and the export's overhead.

Prints how long each data plane operation takes on a 1 GiB volume (create, resize,
snapshot, restore, clone, import of a 64 MiB image) and what fio measures through the
FUSE export against the same workload on a plain raw image file on the same
filesystem. The ratio export/raw is the data plane's overhead. Real daemons, real
FUSE, real fio; everything lives in a temporary folder removed at the end.

    python benchmarks/bench_dataplane.py [--runtime-s 4] [--size-gib 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from aiohttp import web

from suite.lab.dataplane import DataPlane

MiB, GiB = 1 << 20, 1 << 30
KEY = b"bench-key"
JOBS = {
    "4k randread QD1": ["--rw=randread", "--bs=4k", "--ioengine=psync", "--iodepth=1"],
    "1M seq write QD8": ["--rw=write", "--bs=1M", "--ioengine=libaio", "--iodepth=8"],
}


async def timed(label: str, work: Awaitable[Any], rows: list[tuple[str, float]]) -> Any:
    start = time.perf_counter()
    result = await work
    rows.append((label, time.perf_counter() - start))
    return result


def fio(path: Path, job: list[str], runtime_s: float) -> dict[str, float]:
    """Run one fio job; return IOPS, MiB/s and p50/p99 completion latency in us."""
    out = subprocess.run(
        ["fio", "--name=bench", f"--filename={path}", "--direct=1", "--time_based",
         f"--runtime={runtime_s}", "--output-format=json", *job],
        capture_output=True, text=True, check=True).stdout
    job_result = json.loads(out)["jobs"][0]
    side = job_result["read"] if job_result["read"]["io_bytes"] else job_result["write"]
    pct = side["clat_ns"].get("percentile", {})
    return {"iops": side["iops"], "mibs": side["bw_bytes"] / MiB,
            "p50_us": pct.get("50.000000", 0) / 1000, "p99_us": pct.get("99.000000", 0) / 1000}


def prefill(path: Path, size: int) -> None:
    """Write every byte once: reads of never-written areas measure nothing."""
    subprocess.run(["fio", "--name=prefill", f"--filename={path}", "--rw=write", "--bs=1M",
                    f"--size={size}", "--direct=1", "--ioengine=libaio", "--iodepth=8",
                    "--output-format=json"], capture_output=True, check=True)


async def serve_file(path: Path) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_static("/", path.parent)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/{path.name}"


def make_image(folder: Path) -> Path:
    """A 64 MiB raw image: 48 MiB of random data and a 16 MiB hole."""
    image = folder / "image-64m.raw"
    with open(image, "wb") as out:
        for _ in range(48):
            out.write(os.urandom(MiB))
        out.truncate(64 * MiB)
    return image


async def operations(dp: DataPlane, work: Path, size: int) -> list[tuple[str, float]]:
    rows: list[tuple[str, float]] = []
    await timed("create (plain, Block)", dp.create_volume("plain", size, volume_mode="Block"),
                rows)
    await timed("create (luks, first for its key)", dp.create_volume(
        "luks", size, volume_mode="Block", encrypt=True, key=KEY), rows)
    await timed("create (luks, key seen before)", dp.create_volume(
        "luks2", size, volume_mode="Filesystem", encrypt=True, key=KEY), rows)
    await timed("create x4 at once (plain)", asyncio.gather(*(dp.create_volume(
        f"many-{i}", size, volume_mode="Block") for i in range(4))), rows)
    await asyncio.to_thread(prefill, await dp.export_path("plain"), size)
    await asyncio.to_thread(prefill, await dp.export_path("luks"), size)
    await dp.create_volume("c-luks", size, volume_mode="Block", encrypt=True, key=KEY)
    clone_targets = {"plain": "many-0", "luks": "c-luks"}
    for kind in ("plain", "luks"):
        await timed(f"snapshot ({kind}, 1 GiB written)", dp.snapshot(kind, f"s-{kind}"), rows)
        await timed(f"restore ({kind})", dp.restore(
            f"s-{kind}", f"r-{kind}", size, volume_mode="Block", encrypt=kind == "luks",
            key=KEY), rows)
        await timed(f"clone ({kind}, copy into a new volume)",
                    dp.populate_from_volume(clone_targets[kind], kind), rows)
        await timed(f"resize ({kind}, online, +1 GiB)", dp.resize(kind, 2 * size), rows)
    image = make_image(work)
    await timed("import 64 MiB raw file (luks)", dp.populate_from_file("luks2", image), rows)
    runner, url = await serve_file(image)
    try:
        await timed("import 64 MiB over http (plain)", dp.populate_from_url("many-2", url),
                    rows)
    finally:
        await runner.cleanup()
    await timed("delete_volume", dp.delete_volume("many-3"), rows)
    return rows


def throughput(dp_exports: dict[str, Path], baseline: Path, size: int,
               runtime_s: float) -> list[tuple[str, str, dict[str, float]]]:
    prefill(baseline, size)
    rows = []
    for job_name, job in JOBS.items():
        rows.append((job_name, "raw image file", fio(baseline, job, runtime_s)))
        for target, path in dp_exports.items():
            rows.append((job_name, target, fio(path, job, runtime_s)))
    return rows


def print_report(ops: list[tuple[str, float]],
                 perf: list[tuple[str, str, dict[str, float]]]) -> None:
    print("\nData plane operations (1 GiB volumes)")
    for label, seconds in ops:
        print(f"  {label:<38} {seconds * 1000:9.1f} ms")
    print("\nExport vs raw image (fio, direct=1)")
    print(f"  {'job':<18} {'target':<26} {'IOPS':>9} {'MiB/s':>8} {'p50 us':>8} "
          f"{'p99 us':>8} {'vs raw':>7}")
    base: dict[str, dict[str, float]] = {}
    for job, target, r in perf:
        base.setdefault(job, r)
        ratio = r["iops"] / base[job]["iops"] if base[job]["iops"] else 0.0
        print(f"  {job:<18} {target:<26} {r['iops']:9.0f} {r['mibs']:8.1f} "
              f"{r['p50_us']:8.1f} {r['p99_us']:8.1f} {ratio:6.2f}x")


async def main(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-dataplane-"))
    dp = DataPlane(work / "state")
    size = int(args.size_gib * GiB)
    try:
        ops = await operations(dp, work, size)
        exports = {"FUSE export (plain)": await dp.export_path("r-plain"),
                   "FUSE export (luks)": await dp.export_path("r-luks")}
        await dp.create_volume("slow", size, volume_mode="Block", limits={"iops": 500})
        exports["FUSE export (500 IOPS cap)"] = await dp.export_path("slow")
        await asyncio.to_thread(prefill, exports["FUSE export (500 IOPS cap)"], size)
        perf = await asyncio.to_thread(throughput, exports, work / "baseline.raw", size,
                                       args.runtime_s)
    finally:
        await dp.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    print_report(ops, perf)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime-s", type=float, default=4.0, help="seconds per fio job")
    parser.add_argument("--size-gib", type=float, default=1.0, help="volume size in GiB")
    sys.exit(asyncio.run(main(parser.parse_args())))
