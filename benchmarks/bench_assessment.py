"""Wall time of the assessment profile on the four built-in lab classes, and how the
boot storm grows with N.

The real `assessment` profile sizes disks for a real array (64Gi fio disks, 60 s jobs
with 15 s ramp, three repeats: hours per class). On the lab the benchmark keeps the
profile's families, its job set (every job, every repeat), its scale section and its
boot storm, and shrinks what only a real array can fill: disk sizes, the fio area and
each job's runtime (`--fio-runtime`, default 2 s, ramp 0). The boot-storm series runs
only `scale.bootstorm` on the four classes at once for each N.

    python benchmarks/bench_assessment.py [--storms 5,10,20] [--skip-assessment]
        [--storm-classes lab-slow]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
CLASSES = ["lab-ceph-rbd", "lab-nfs", "lab-local", "lab-slow"]


def lab_profile(folder: Path, name: str, runtime_s: int, storm: int | None = None) -> Path:
    from suite.config.profile import resolve_profile_path
    from suite.fio.jobsets import JOB_SETS

    profile = yaml.safe_load(resolve_profile_path("assessment").read_text())
    jobs = [{**job, "runtime_s": runtime_s, "ramp_s": 0}
            for job in JOB_SETS["assessment"]["jobs"]]
    profile.update(name=name, sizes={"disk": "96Mi", "expanded_disk": "128Mi",
                                     "perf_disk": "96Mi"},
                   fio={"jobSet": "assessment", "jobs": jobs, "sizeMiB": 32})
    profile["guest"]["memory"] = "256Mi"
    profile["scale"] = {**profile.get("scale", {}), "bootstorm_image": "16Mi"}
    if storm is not None:
        profile["scale"]["bootstorm_vms"] = storm
    profile["node_checks"]["privileged_pods"] = True
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


def run(profile: Path, reports: Path, run_id: str, *extra: str,
        classes: list[str] = CLASSES) -> tuple[float, dict[str, Any]]:
    command = [sys.executable, "-m", "pytest", "suite", "-q", "-p", "no:cacheprovider", "--lab",
               "--profile", str(profile), "--report-dir", str(reports), "--run-id", run_id,
               *extra]
    for name in classes:
        command += ["--storage-class", name]
    started = time.monotonic()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    wall = time.monotonic() - started
    matrix_file = reports / run_id / "matrix.json"
    if not matrix_file.exists():
        sys.exit(f"run {run_id} wrote no report:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return wall, json.loads(matrix_file.read_text())


def storm_line(n: int, wall: float, matrix: dict[str, Any]) -> str:
    parts = []
    for sc in matrix["storageClasses"]:
        cell = sc["capabilities"]["scale.bootstorm"]
        ev = cell["evidence"]
        ready = (ev.get("readySeconds") or {}).get("p95")
        login = (ev.get("loginSeconds") or {}).get("p95")
        image = ev.get("imageReadSeconds") or {}
        parts.append(f"{sc['name']} {cell['verdict']} login p95 {login}s ready p95 {ready}s "
                     f"image read p50/p95 {image.get('p50')}/{image.get('p95')}s")
    return f"N={n:>2}: wall {wall:6.1f}s  " + "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storms", default="5,10,20")
    parser.add_argument("--fio-runtime", type=int, default=2)
    parser.add_argument("--skip-assessment", action="store_true")
    parser.add_argument("--storm-classes", default=",".join(CLASSES),
                        help="classes the boot-storm series runs on (lab-slow alone shows "
                             "its class-wide limit without the other classes' contention)")
    args = parser.parse_args()
    storm_classes = args.storm_classes.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-assessment-") as tmp:
        folder = Path(tmp)
        if not args.skip_assessment:
            profile = lab_profile(folder, "assessment-lab", args.fio_runtime)
            wall, matrix = run(profile, folder / "reports", "bench-assessment")
            counts: dict[str, int] = {}
            for sc in matrix["storageClasses"]:
                for cell in sc["capabilities"].values():
                    counts[cell["verdict"]] = counts.get(cell["verdict"], 0) + 1
            print(f"assessment profile (lab-sized) on {len(CLASSES)} classes: wall {wall:.1f}s; "
                  f"cells {counts}")
            print(storm_line(10, wall, matrix))
        for n in (int(x) for x in args.storms.split(",")):
            profile = lab_profile(folder, f"storm{n}", args.fio_runtime, storm=n)
            wall, matrix = run(profile, folder / "reports", f"bench-storm-{n}",
                               "-k", "scale.bootstorm", classes=storm_classes)
            print(storm_line(n, wall, matrix))


if __name__ == "__main__":
    main()
