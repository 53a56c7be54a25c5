"""Benchmark the lab's API server: GET requests per second, LIST latency with 1,000
objects, and watch delivery latency (write sent -> event received by a watcher).

The lab runs as `python -m suite.lab serve` in its own process, as a user runs it, so
the client's work does not share the server's interpreter. Targets (2 cores): at least
1,000 GET/s, LIST of 1,000 objects under 100 ms, watch delivery p99 under 20 ms.

Usage: python benchmarks/bench_api.py [--objects 1000] [--seconds 3] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import aiohttp
import yaml

NS = "bench"


def start_lab(folder: Path) -> tuple[subprocess.Popen[str], str, str, ssl.SSLContext]:
    kubeconfig = folder / "kubeconfig"
    proc = subprocess.Popen([sys.executable, "-m", "suite.lab", "serve", "--kubeconfig",
                             str(kubeconfig), "--state-dir", str(folder / "state")],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    proc.stdout.readline()
    config = yaml.safe_load(kubeconfig.read_text())
    cluster, user = config["clusters"][0]["cluster"], config["users"][0]["user"]
    context = ssl.create_default_context(
        cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    return proc, cluster["server"], user["token"], context


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to tell server cost from load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


class Bench:
    def __init__(self, session: aiohttp.ClientSession, server: str, token: str,
                 context: ssl.SSLContext) -> None:
        self.session = session
        self.token = token
        self.context = context
        self.base = f"{server}/api/v1/namespaces/{NS}/configmaps"

    async def populate(self, count: int, concurrency: int) -> None:
        async def make(i: int) -> None:
            body = {"metadata": {"name": f"cm-{i:05d}", "labels": {"bench": "yes"}},
                    "data": {"payload": "x" * 200, "index": str(i)}}
            async with self.session.post(self.base, json=body) as response:
                assert response.status == 201, await response.text()

        sem = asyncio.Semaphore(concurrency)

        async def bounded(i: int) -> None:
            async with sem:
                await make(i)

        await asyncio.gather(*(bounded(i) for i in range(count)))

    async def get_rate(self, seconds: float, concurrency: int) -> float:
        """GETs over keep-alive connections with a lean client: aiohttp's client costs as
        much CPU per request as the server, and would measure itself on 2 cores."""
        done = 0
        deadline = time.perf_counter() + seconds
        url = urllib.parse.urlsplit(f"{self.base}/cm-00001")
        request = (f"GET {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nAccept: "
                   f"application/json\r\nAuthorization: Bearer {self.token}\r\n\r\n").encode()

        async def worker() -> None:
            nonlocal done
            reader, writer = await asyncio.open_connection(url.hostname, url.port,
                                                           ssl=self.context)
            while time.perf_counter() < deadline:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 200"), head
                length = re.search(rb"(?i)content-length: *(\d+)", head)
                assert length is not None, head
                await reader.readexactly(int(length.group(1)))
                done += 1
            writer.close()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.perf_counter() - started)

    async def list_latency(self, rounds: int, objects: int) -> list[float]:
        timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            async with self.session.get(self.base) as response:
                body = await response.json()
            timings.append((time.perf_counter() - started) * 1000)
            assert len(body["items"]) >= objects
        return timings

    async def watch_latency(self, events: int) -> list[float]:
        async with self.session.get(self.base) as response:
            rv = (await response.json())["metadata"]["resourceVersion"]
        latencies: list[float] = []
        sent: dict[str, float] = {}
        url = f"{self.base}?watch=1&resourceVersion={rv}&labelSelector=w%3Dyes"
        async with self.session.get(url) as stream:
            reader = asyncio.create_task(self._read(stream, sent, latencies, events))
            for i in range(events):
                name = f"w-{i:05d}"
                sent[name] = time.perf_counter()
                body = {"metadata": {"name": name, "labels": {"w": "yes"}}}
                async with self.session.post(self.base, json=body) as response:
                    assert response.status == 201
                await asyncio.sleep(0.002)
            await asyncio.wait_for(reader, 30)
        return latencies

    @staticmethod
    async def _read(stream: aiohttp.ClientResponse, sent: dict[str, float],
                    latencies: list[float], events: int) -> None:
        while len(latencies) < events:
            line = await stream.content.readline()
            event = json.loads(line)
            name = event["object"]["metadata"]["name"]
            latencies.append((time.perf_counter() - sent[name]) * 1000)


async def run(server: str, token: str, context: ssl.SSLContext,
              args: argparse.Namespace, server_pid: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(ssl=context, limit=args.concurrency + 2)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        async with session.post(f"{server}/api/v1/namespaces",
                                json={"metadata": {"name": NS}}) as response:
            assert response.status == 201
        bench = Bench(session, server, token, context)
        await bench.populate(args.objects, args.concurrency)
        cpu_before, started = cpu_seconds(server_pid), time.perf_counter()
        rate = await bench.get_rate(args.seconds, args.concurrency)
        cpu = cpu_seconds(server_pid) - cpu_before
        requests = rate * (time.perf_counter() - started)
        print(f"GET: {rate:,.0f} requests/s ({args.concurrency} concurrent clients); server "
              f"CPU {cpu / requests * 1e6:.0f} us per GET = {requests / cpu:,.0f} GET/s "
              "per server core")
        lists = await bench.list_latency(20, args.objects)
        print(f"LIST of {args.objects} objects: p50 {statistics.median(lists):.1f} ms, "
              f"p95 {percentile(lists, 95):.1f} ms, max {max(lists):.1f} ms")
        watch = await bench.watch_latency(args.watch_events)
        print(f"watch delivery ({len(watch)} events): p50 {statistics.median(watch):.2f} ms, "
              f"p99 {percentile(watch, 99):.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--watch-events", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-api-") as folder:
        proc, server, token, context = start_lab(Path(folder))
        try:
            asyncio.run(run(server, token, context, args, proc.pid))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
