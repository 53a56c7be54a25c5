"""Wall time of `pytest suite --lab` on one StorageClass and on four, and where it goes.

Classes are assessed concurrently, so four should take little longer than one. The
split between waiting on the cluster and the suite's own code comes from a second pair
of runs against a lab in its own process (`python -m suite.lab serve`): the pytest
process's CPU time is then the suite's own work, and the rest of each class thread's
time is waiting (API calls, watches, guest commands, fio). `timings.json`, written by
the session beside the matrix, carries the instrumented Kube call and wait seconds.

    python benchmarks/bench_suite.py [--profile quick] [--skip-lab-runs]
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ONE = ["lab-ceph-rbd"]
FOUR = ["lab-ceph-rbd", "lab-nfs", "lab-local", "lab-slow"]


def run_pytest(target: list[str], classes: list[str], profile: str, reports: Path,
               run_id: str) -> tuple[float, dict[str, Any], int]:
    command = [sys.executable, "-m", "pytest", "suite", "-q", "-p", "no:cacheprovider",
               *target, "--profile", profile, "--report-dir", str(reports), "--run-id", run_id]
    for name in classes:
        command += ["--storage-class", name]
    start = time.monotonic()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    wall = time.monotonic() - start
    timings_file = reports / run_id / "timings.json"
    if not timings_file.exists():
        sys.exit(f"run {run_id} wrote no report:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return wall, json.loads(timings_file.read_text()), done.returncode


def start_lab(folder: Path) -> tuple[subprocess.Popen[bytes], Path]:
    kubeconfig = folder / "kubeconfig"
    process = subprocess.Popen(
        [sys.executable, "-m", "suite.lab", "serve", "--kubeconfig", str(kubeconfig),
         "--state-dir", str(folder / "state")], cwd=REPO,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not kubeconfig.exists():
        if process.poll() is not None:
            sys.exit("the lab did not start")
        time.sleep(0.1)
    return process, kubeconfig


def split_line(label: str, wall: float, timings: dict[str, Any]) -> str:
    thread_s = sum(timings["classSeconds"].values()) or 1.0
    cpu = timings["processCpuSeconds"]
    return (f"{label:<28} wall {wall:7.1f}s  class-thread time {thread_s:7.1f}s  "
            f"suite CPU {cpu:6.1f}s ({100 * cpu / thread_s:4.1f}%)  "
            f"waiting {100 * (1 - cpu / thread_s):4.1f}%  "
            f"[Kube waits {timings['waitSeconds']:.1f}s, API calls {timings['apiCallSeconds']:.1f}s"
            f" in {timings['apiCalls']} calls]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--skip-lab-runs", action="store_true",
                        help="only the out-of-process runs (the time split)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kvs-bench-") as tmp:
        folder = Path(tmp)
        if not args.skip_lab_runs:
            for label, classes in (("--lab, 1 class", ONE), ("--lab, 4 classes", FOUR)):
                wall, timings, rc = run_pytest(["--lab"], classes, args.profile,
                                               folder / "r", f"bench-lab-{len(classes)}")
                print(f"{label:<28} wall {wall:7.1f}s  (exit {rc}; in-process lab, CPU "
                      f"{timings['processCpuSeconds']:.1f}s incl. the lab)", flush=True)
        lab, kubeconfig = start_lab(folder)
        try:
            for label, classes in (("separate lab, 1 class", ONE), ("separate lab, 4 classes",
                                                                    FOUR)):
                wall, timings, _ = run_pytest(["--kubeconfig", str(kubeconfig)], classes,
                                              args.profile, folder / "r",
                                              f"bench-ext-{len(classes)}")
                print(split_line(label, wall, timings), flush=True)
        finally:
            lab.send_signal(signal.SIGTERM)
            lab.wait(60)


if __name__ == "__main__":
    main()
