"""Benchmark of the lab's storage control plane, end to end through the Kubernetes API.

Prints how long each storage operation takes on a 1 GiB volume as a client sees it
(object created -> Bound / readyToUse / Succeeded): provision, online resize, snapshot,
restore, DataVolume clone per strategy, http import. The data plane's own cost per
operation is in bench_dataplane.py; the difference is the controllers' overhead.

    python benchmarks/bench_storage_api.py [--size Gi-quantity, default 1Gi]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "lab" / "storage"))

from storagehelpers import (
    Api,
    api_for,
    create_dv,
    ready_snapshot,
    restore,
    snapshot,
    wait_bound,
    wait_dv,
    wait_for,
)

from suite.lab.lab import Lab

NS = "bench"


def timed(rows: list[tuple[str, float]], name: str, action: Callable[[], object]) -> None:
    start = time.monotonic()
    action()
    rows.append((name, time.monotonic() - start))


def provision(api: Api, name: str, sc: str, mode: str, size: str) -> None:
    api.create_pvc(NS, name, sc, mode, ["ReadWriteOnce"], size=size)
    wait_bound(api, NS, name, 120)


def run(lab: Lab, size: str, bigger: str) -> list[tuple[str, float]]:
    api = api_for(lab)
    rows: list[tuple[str, float]] = []
    api.core.create_namespace({"metadata": {"name": NS}})
    for sc, mode in (("lab-ceph-rbd", "Block"), ("lab-nfs", "Filesystem"),
                     ("lab-slow", "Block")):
        timed(rows, f"provision {sc} {mode}", lambda sc=sc, mode=mode: provision(
            api, f"src-{sc}", sc, mode, size))
    pv = api.pvc(NS, "src-lab-ceph-rbd")["spec"]["volumeName"]
    api.attach(pv, "lab-node-1", "rbd.csi.lab.io")

    def resize() -> None:
        api.resize(NS, "src-lab-ceph-rbd", bigger)
        wait_for("resized", lambda: api.pvc(NS, "src-lab-ceph-rbd")["status"]["capacity"][
            "storage"] == bigger, 120)

    timed(rows, "resize lab-ceph-rbd Block online (attached)", resize)
    timed(rows, "snapshot lab-slow", lambda: (
        snapshot(api, NS, "snap", "src-lab-slow"), ready_snapshot(api, NS, "snap", 120)))
    timed(rows, "restore lab-slow", lambda: (
        restore(api, NS, "restored", "lab-slow", "Block", "snap", size),
        wait_bound(api, NS, "restored", 120)))
    for sc, mode, strategy in (("lab-ceph-rbd", "Block", "csi-clone"),
                               ("lab-nfs", "Filesystem", "copy"),
                               ("lab-slow", "Block", "snapshot")):
        source = f"src-{sc}"
        storage = {"storageClassName": sc, "volumeMode": mode, "accessModes": ["ReadWriteOnce"],
                   "resources": {"requests": {"storage": api.pvc(NS, source)["spec"][
                       "resources"]["requests"]["storage"]}}}
        timed(rows, f"clone DataVolume {sc} ({strategy})", lambda sc=sc, s=storage, src=source: (
            create_dv(api, NS, f"clone-{sc}", {"pvc": {"namespace": NS, "name": src}}, s),
            wait_dv(api, NS, f"clone-{sc}", timeout_s=300)))
    assert lab.ctx is not None
    url = lab.ctx.extras["images"]["pattern.qcow2"]["url"]
    timed(rows, "import DataVolume lab-nfs (8 MiB qcow2 over http)", lambda: (create_dv(
        api, NS, "imported", {"http": {"url": url}}, {"storageClassName": "lab-nfs",
                                                      "resources": {"requests": {
                                                          "storage": size}}}),
        wait_dv(api, NS, "imported", timeout_s=300)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1Gi")
    parser.add_argument("--bigger", default="2Gi")
    args = parser.parse_args()
    with Lab() as lab:
        rows = run(lab, args.size, args.bigger)
        errors = list(lab.ctx.errors) if lab.ctx else []
    print(f"{'operation (' + args.size + ' volumes, through the API)':<58} seconds")
    for name, seconds in rows:
        print(f"{name:<58} {seconds:7.2f}")
    if errors:
        print("lab errors:", *errors, sep="\n", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
