"""Synthetic runs for the history tests: records as the suite would store them."""

from __future__ import annotations

import random

from suite.history.record import RunRecord, Sample
from suite.history.store import HistoryStore


def record(run_id: str, samples: dict[tuple[str, str, str], list[float]],
           cells: dict[tuple[str, str], str] | None = None, kubevirt: str = "1.4.0",
           params: str = "p1", complete: bool = True) -> RunRecord:
    """``samples``: (class, job, metric) -> repeats; mode is always Block."""
    classes = {sc: {"provisioner": f"{sc}.csi", "paramsHash": params}
               for sc, _, _ in samples} | {sc: {"provisioner": f"{sc}.csi",
                                                "paramsHash": params}
                                           for sc, _ in (cells or {})}
    return RunRecord(
        id=run_id, started=f"2026-11-{int(run_id.split('-')[-1]) % 28 + 1:02d}T01:00:00Z",
        finished="", profile="nightly", suite_version="0.1.0", complete=complete,
        cluster={"kubernetesVersion": "1.31", "kubevirtVersion": kubevirt,
                 "cdiVersion": "1.60"},
        classes=classes,
        cells={k: (v, f"reason for {v}") for k, v in (cells or {}).items()},
        samples=[Sample(sc, job, "Block", i, metric, v)
                 for (sc, job, metric), values in samples.items()
                 for i, v in enumerate(values, 1)])


def shifted_history(store: HistoryStore, runs: int = 20, shift_at: int = 12,
                    seed: int = 7) -> None:
    """``runs`` nightly runs of one class; IOPS drops 20 % from run ``shift_at`` (1-based)
    on, with 3 % noise; run 6 changes the CSI driver parameters."""
    rng = random.Random(seed)
    for n in range(1, runs + 1):
        level = 1000.0 if n < shift_at else 800.0
        values = [level * (1 + rng.gauss(0, 0.03)) for _ in range(5)]
        store.append(record(f"run-{n}", {("lab-a", "randread", "readIops"): values},
                            params="p1" if n < 6 else "p2"))
