"""Wall time of one suite run against a lab without API faults and with the reliability
profile of issue 10 (`api: {throttle429: 0.05, errors5xx: 0.02, watchCutAfterS: 20,
latencyMs: 20}`). The faulty run must end with the same verdicts and take at most twice
as long.

Both runs use the e2e profile (tests/e2e/profile.yaml) on the same two driver entries,
each against a fresh lab in its own process, as a user runs them.

    python benchmarks/bench_api_faults.py [--classes 2]
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.conftest import run_suite, start_lab  # noqa: E402
from tests.e2e.test_truth import VARIETY  # noqa: E402

FAULTS = {"throttle429": 0.05, "errors5xx": 0.02, "watchCutAfterS": 20, "latencyMs": 20}


def one_run(drivers: list[dict[str, Any]], api: dict[str, Any] | None
            ) -> tuple[float, dict[str, dict[str, str]], dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="kvs-bench-faults-") as folder:
        lab = start_lab(Path(folder), drivers, {"api": api} if api else None)
        try:
            start = time.monotonic()
            result = run_suite(lab.kubeconfig, Path(folder) / "reports")
            wall = time.monotonic() - start
            if result.returncode != 0:
                sys.exit(f"run failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
            faults = json.loads(subprocess.run(
                ["kubectl", "--kubeconfig", str(lab.kubeconfig), "get", "--raw",
                 "/lab/faults"], capture_output=True, text=True, check=True).stdout)
            return wall, result.verdicts(), faults
        finally:
            lab.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=2, help="driver entries (1-4)")
    args = parser.parse_args()
    drivers = VARIETY[:max(1, min(args.classes, len(VARIETY)))]
    clean_s, clean_verdicts, _ = one_run(drivers, None)
    print(f"without faults: {clean_s:.1f} s wall ({len(drivers)} classes)", flush=True)
    faulty_s, faulty_verdicts, faults = one_run(drivers, FAULTS)
    print(f"with faults:    {faulty_s:.1f} s wall; injected {faults['injected']} "
          f"({', '.join(f'{k}: {v}' for k, v in faults['byCode'].items())})")
    print(f"ratio: {faulty_s / clean_s:.2f}x (target: at most 2x); verdicts "
          f"{'identical' if faulty_verdicts == clean_verdicts else 'DIFFER'}")
    if faulty_verdicts != clean_verdicts or faulty_s > 2 * clean_s:
        sys.exit(1)


if __name__ == "__main__":
    main()
