"""Benchmark the `guests: qemu` runtime's data path, as KubeVirt's design has it: the VM's
QEMU opens the volume's exported file (the lab data plane's FUSE export of a
qemu-storage-daemon node, as `export` in Block mode) as a raw virtio-blk drive with a
serial. Figures: boot to `login:` (p50/p90), fio 4k QD1 randread latency and 1M
sequential write bandwidth in the guest against fio on the host on the same export,
online resize (the daemon grows the node, then QMP block_resize on the VM's drive) until
the guest's kernel shows the new size, live migration to a QEMU with `-incoming` (idle,
then with the guest dirtying its memory), and the QEMU process's RSS.

Needs the guest image (scripts/build_guest_initramfs.sh). Figures swing by tens of per
cent on a shared machine; TCG makes guest I/O several times slower than the host's.

Usage: python benchmarks/bench_qemu_guest.py [--boots 3] [--seconds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from suite.lab.compute.cloudinit import parse_user_data
from suite.lab.compute.qemu import QemuGuest, find_image
from suite.lab.compute.qemu.session import SerialSession
from suite.lab.dataplane.qmp import QmpClient

MiB = 1 << 20
USER_DATA = "#cloud-config\nuser: fedora\npassword: bench\nchpasswd: {expire: false}\n"
JOBS = {"4k-qd1-randread": "--rw=randread --bs=4k --iodepth=1",
        "1m-seqwrite": "--rw=write --bs=1M --iodepth=4"}


def fio_args(target: str, job: str, seconds: int) -> str:
    return (f"fio --name=b --filename={target} --direct=1 --ioengine=libaio {JOBS[job]} "
            f"--runtime={seconds} --time_based --output-format=json")


def summarise(job: str, text: str) -> str:
    data = json.loads(text[text.index("{"):])["jobs"][0]
    if job.startswith("4k"):
        clat = data["read"]["clat_ns"]["percentile"]
        return (f"{data['read']['iops']:.0f} IOPS, p50 {clat['50.000000'] / 1000:.0f} us, "
                f"p99 {clat['99.000000'] / 1000:.0f} us")
    return f"{data['write']['bw_bytes'] / MiB:.0f} MiB/s"


async def start_daemon(folder: Path, size: int) -> tuple[subprocess.Popen[bytes], Path]:
    image, export = folder / "disk.img", folder / "export"
    with open(image, "wb") as f:
        f.truncate(size)
    export.touch()
    proc = subprocess.Popen([
        "qemu-storage-daemon", "--chardev",
        f"socket,path={folder / 'qsd.sock'},server=on,wait=off,id=mon0",
        "--monitor", "chardev=mon0",
        "--blockdev", f"driver=file,node-name=file0,filename={image},cache.direct=on",
        "--blockdev", "driver=raw,node-name=fmt0,file=file0",
        "--export", f"type=fuse,id=exp0,node-name=fmt0,mountpoint={export},writable=on"])
    for _ in range(200):
        if (folder / "qsd.sock").exists() and export.stat().st_size == size:
            break
        await asyncio.sleep(0.05)
    return proc, export


async def boot(folder: Path, export: Path, name: str) -> tuple[QemuGuest, SerialSession, float]:
    guest = QemuGuest(name, folder / name, parse_user_data(USER_DATA), user_data=USER_DATA)
    guest.link_disk("bench-disk", export)
    started = time.monotonic()
    await guest.start()
    session = SerialSession(guest)
    await session.guest.send(b"\r")
    await session.expect(r" login: ", 600)
    took = time.monotonic() - started
    await session.login("fedora", "bench")
    return guest, session, took


class PollCounter:
    """A migration watch that only counts virt-launcher monitor polls."""

    polls = 0

    async def target_ready(self) -> None:
        return None

    async def started(self) -> None:
        return None

    def progress(self, info: dict[str, object]) -> bool:
        self.polls += 1
        return False


async def main(boots: int, seconds: int) -> None:
    find_image()
    with tempfile.TemporaryDirectory(prefix="bench-qemu-") as tmp:
        folder = Path(tmp)
        daemon, export = await start_daemon(folder, 512 * MiB)
        guests: list[QemuGuest] = []
        try:
            qsd = await QmpClient.connect(folder / "qsd.sock")
            for job in JOBS:
                out = subprocess.run(fio_args(str(export), job, seconds).split(),
                                     capture_output=True, text=True, check=True).stdout
                print(f"host  {job:16s} on the FUSE export: {summarise(job, out)}")
            times = []
            for i in range(boots):
                guest, session, took = await boot(folder, export, f"bench{i}")
                guests.append(guest)
                times.append(took)
                if i < boots - 1:
                    await guest.stop()
            print(f"boot to login: p50 {statistics.median(times):.1f} s, "
                  f"p90 {sorted(times)[math.ceil(len(times) * 0.9) - 1]:.1f} s "
                  f"({', '.join(f'{t:.1f}' for t in times)})")
            _, dev = await session.run("readlink -f /dev/disk/by-id/virtio-bench-disk")
            for job in JOBS:
                code, out = await session.run("sudo -n " + fio_args(dev, job, seconds),
                                              seconds * 10 + 60)
                if code != 0:
                    raise SystemExit(f"fio in the guest failed ({code}): {out[-300:]}")
                print(f"guest {job:16s} through virtio: {summarise(job, out)}")
            name = dev.rsplit("/", 1)[1]
            await qsd.execute("block_resize", {"node-name": "fmt0", "size": 768 * MiB})
            before = time.monotonic()
            await guest.resize("bench-disk", 768 * MiB)
            _code, _ = await session.run(
                f"while [ $(cat /sys/block/{name}/size) != {768 * MiB // 512} ]; do "
                "sleep 0.01; done", 60)
            print(f"online resize: block_resize to guest-visible {time.monotonic() - before:.2f}"
                  " s (includes one console round trip)")
            await session.run("echo kept > /tmp/state")
            before = time.monotonic()
            info = await guest.migrate({"bench-disk": export})
            code, out = await session.run("cat /tmp/state")
            print(f"live migration (both QEMUs on the same export): "
                  f"{time.monotonic() - before:.2f} s wall, QEMU total {info.get('total-time')}"
                  f" ms, downtime {info.get('downtime')} ms, shell state kept: {out == 'kept'}")
            await session.run("(while :; do dd if=/dev/urandom of=/tmp/busy bs=1M count=32 "
                              "2>/dev/null; done) & true")
            polls = PollCounter()
            before = time.monotonic()
            info = await guest.migrate({"bench-disk": export}, watch=polls)
            sent = info.get("ram", {}).get("transferred", 0) // MiB
            print(f"live migration of a busy guest (dd from urandom into RAM): "
                  f"{time.monotonic() - before:.2f} s wall, QEMU total {info.get('total-time')}"
                  f" ms, downtime {info.get('downtime')} ms, {sent} MiB sent, "
                  f"{polls.polls} monitor polls (every 400 ms)")
            pid = guest.process.pid if guest.process else 0
            rss = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                       if line.startswith("VmRSS"))
            print(f"memory: QEMU {rss.split(':')[1].strip()} RSS for a "
                  f"{guest.memory_mib} MiB guest")
            qsd.close()
        finally:
            for guest in guests:
                await guest.stop()
            daemon.terminate()
            daemon.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boots", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(main(args.boots, args.seconds))
