"""Benchmark the lab's compute half through the real `kubernetes` client and the console.

Prints:
- VM start latency, create -> console shows a shell after login, for a VM with only a
  containerDisk (the compute path alone) and for one with a blank DataVolume on the
  default virt class (storage provisioning included);
- live-migration duration, VirtualMachineInstanceMigration created -> Succeeded;
- console round trip of a one-line command (`echo`), p50 / p90 / max.

Usage: python benchmarks/bench_compute.py [--runs 3] [--echoes 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import kubernetes

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "lab" / "compute"))

from kvhelpers import (  # noqa: E402
    KV,
    Console,
    blank_dv,
    cloud_init,
    create_vm,
    custom,
    migration_manifest,
    vm_manifest,
    wait_migration,
    wait_printable,
)

from suite.lab.lab import Lab  # noqa: E402


def _boot(client: Any, kv: Any, name: str, dvs: list[dict[str, Any]]) -> tuple[float, Console]:
    started = time.perf_counter()
    create_vm(kv, "default", vm_manifest(name, user_data=cloud_init("pw"), data_volumes=dvs))
    wait_printable(kv, "default", name, "Running", 120)
    console = Console(client, "default", name)
    console.login("fedora", "pw")
    return time.perf_counter() - started, console


def _migrate(kv: Any, vm: str, index: int) -> float:
    started = time.perf_counter()
    name = f"bench-mig-{index}"
    kv.create_namespaced_custom_object(*KV, "default", "virtualmachineinstancemigrations",
                                       migration_manifest(name, vm))
    done = wait_migration(kv, "default", name, 60)
    assert done["status"]["phase"] == "Succeeded", done["status"]
    return time.perf_counter() - started


def _round_trips(console: Console, count: int) -> list[float]:
    times = []
    for index in range(count):
        started = time.perf_counter()
        assert console.run(f"echo rt{index}")[1] == f"rt{index}"
        times.append(time.perf_counter() - started)
    return times


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return (f"p50 {statistics.median(ordered) * 1000:7.1f} ms  p90 {p90 * 1000:7.1f} ms  "
            f"max {ordered[-1] * 1000:7.1f} ms  (n={len(ordered)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--echoes", type=int, default=50)
    args = parser.parse_args()
    with Lab() as lab:
        client = kubernetes.config.new_client_from_config(config_file=str(lab.kubeconfig_path))
        kv = custom(client)
        virt_class = next((d.name for d in lab.ctx.drivers if d.default_virt),
                          lab.ctx.drivers[0].name)
        plain, with_dv, migrations, consoles = [], [], [], []
        for run in range(args.runs):
            seconds, console = _boot(client, kv, f"bench-plain-{run}", [])
            plain.append(seconds)
            consoles.append(console)
            dv = blank_dv(f"bench-dv-{run}", virt_class, access="ReadWriteMany")
            seconds, console = _boot(client, kv, f"bench-dv-{run}", [dv])
            with_dv.append(seconds)
            migrations.append(_migrate(kv, f"bench-dv-{run}", run))
            consoles.append(console)
        echoes = _round_trips(consoles[-1], args.echoes)
        for console in consoles:
            console.close()
        print(f"VM start, containerDisk only (create -> logged-in shell): {_ms(plain)}")
        print(f"VM start, blank DataVolume on {virt_class}:               {_ms(with_dv)}")
        print(f"live migration (VMIM created -> Succeeded):                {_ms(migrations)}")
        print(f"console round trip of `echo` (after a migration):         {_ms(echoes)}")
        if lab.ctx.errors:
            print("lab errors:", *lab.ctx.errors, sep="\n")
        client.close()


if __name__ == "__main__":
    main()
