"""False-regression rate: repeated nightly-style runs of unchanged lab classes.

Nothing changes between the runs, so every metric decision that says ``regressed`` is a
false alarm. One lab (in its own process) serves a class throttled to a fixed IOPS limit
(steady, like provisioned-IOPS storage) and an unthrottled class (whatever the shared
machine gives: the noisy case). The suite runs R times with ``--baseline latest`` and
the nightly profile's regression settings; the script prints the decisions of every
comparison and the share of ``regressed`` among them, then the change points the
history shows (which, with nothing changed, should be none).

    python benchmarks/bench_false_regressions.py [--runs 6] [--repeats 5] [--runtime 2]
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
DRIVERS = [
    {"name": "bench-throttled", "provisioner": "throttled.csi.bench.io",
     "volumeBindingMode": "Immediate", "modes": {"Block": ["ReadWriteOnce"]},
     "expansion": "none", "snapshots": False, "clone": "copy", "encryption": "none",
     "limits": {"iops": 400}, "faults": []},
    {"name": "bench-unthrottled", "provisioner": "free.csi.bench.io",
     "volumeBindingMode": "Immediate", "modes": {"Block": ["ReadWriteOnce"]},
     "expansion": "none", "snapshots": False, "clone": "copy", "encryption": "none",
     "faults": []},
]


def profile(folder: Path, repeats: int, runtime: int) -> Path:
    data = yaml.safe_load((REPO / "tests" / "e2e" / "profile.yaml").read_text())
    nightly = yaml.safe_load((REPO / "profiles" / "nightly.yaml").read_text())
    data.update(name="bench-false-regressions", families=["perf"],
                regression=nightly["regression"])
    data["fio"] = {"repeats": repeats, "sizeMiB": 16, "jobs": [
        {"name": "qd1-randread", "rw": "randread", "bs": "4k", "iodepth": 1,
         "runtime_s": runtime},
        {"name": "qd8-randwrite", "rw": "randwrite", "bs": "4k", "iodepth": 8,
         "runtime_s": runtime}]}
    path = folder / "profile.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def start_lab(folder: Path) -> tuple[subprocess.Popen[bytes], Path]:
    drivers, kubeconfig = folder / "drivers.yaml", folder / "kubeconfig"
    drivers.write_text(yaml.safe_dump({"drivers": DRIVERS}))
    lab = subprocess.Popen([sys.executable, "-m", "suite.lab", "serve", "--drivers",
                            str(drivers), "--kubeconfig", str(kubeconfig), "--state-dir",
                            str(folder / "state")], cwd=REPO, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not kubeconfig.exists():
        if lab.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the lab did not start")
        time.sleep(0.2)
    return lab, kubeconfig


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--runtime", type=int, default=2, help="seconds per fio job")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kvs-bench-fr-"))
    lab, kubeconfig = start_lab(folder)
    decisions: list[dict[str, Any]] = []
    try:
        for n in range(1, args.runs + 1):
            started = time.monotonic()
            done = subprocess.run(
                [sys.executable, "-m", "pytest", "suite", "-q", "-p", "no:cacheprovider",
                 "--kubeconfig", str(kubeconfig), "--profile",
                 str(profile(folder, args.repeats, args.runtime)), "--report-dir",
                 str(folder / "reports"), "--run-id", f"bench-{n}", "--baseline", "latest"],
                cwd=REPO, capture_output=True, text=True)
            comparison = folder / "reports" / f"bench-{n}" / "comparison.json"
            found = json.loads(comparison.read_text())["metrics"] if comparison.is_file() else []
            decisions += found
            print(f"run {n}: exit {done.returncode}, {time.monotonic() - started:.0f} s, "
                  f"{len(found)} metric decisions: " + ", ".join(
                      f"{k} {v}" for k, v in sorted(collections.Counter(
                          d["decision"] for d in found).items())), flush=True)
            for d in found:
                if d["decision"] == "regressed":
                    print(f"  false regression: {d['storage_class']} {d['name']}: {d['why']}")
    finally:
        lab.send_signal(signal.SIGTERM)
        lab.wait(60)
    print()
    for name in sorted({d["storage_class"] for d in decisions}):
        mine = [d for d in decisions if d["storage_class"] == name]
        counts = collections.Counter(d["decision"] for d in mine)
        print(f"{name}: {len(mine)} decisions: " + ", ".join(
            f"{k} {v}" for k, v in sorted(counts.items())))
    total = len(decisions)
    false = sum(d["decision"] == "regressed" for d in decisions)
    rate = false / total if total else 0.0
    print(f"false-regression rate: {false}/{total} metric decisions = {rate:.1%} "
          f"({args.runs} runs x {args.repeats} repeats, nothing changed)")
    history = subprocess.run([sys.executable, "-m", "suite.history", "history", "--history",
                              str(folder / "reports" / "history.sqlite")], cwd=REPO,
                             capture_output=True, text=True)
    print(history.stdout.split("change points", 1)[-1].strip())
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
