"""deploy/nightly-cronjob.yaml runs the suite as the options and profiles expect."""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from suite.config.options import add_options
from suite.config.profile import load_profile
from suite.history.options import add_history_options

REPO = Path(__file__).resolve().parents[2]


def test_cronjob_uses_the_service_account_the_pvc_and_valid_options() -> None:
    docs = list(yaml.safe_load_all((REPO / "deploy" / "nightly-cronjob.yaml").read_text()))
    (pvc,) = [d for d in docs if d["kind"] == "PersistentVolumeClaim"]
    (cron,) = [d for d in docs if d["kind"] == "CronJob"]
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "kvstorage-suite"
    (container,) = pod["containers"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert volumes[mounts["/data"]]["persistentVolumeClaim"]["claimName"] == (
        pvc["metadata"]["name"])
    parser = argparse.ArgumentParser()
    add_options(parser.add_argument)
    add_history_options(parser.add_argument)
    args = parser.parse_args(container["args"][:-1])  # --junitxml is pytest's own
    assert args.kvs_kubeconfig is None and not args.kvs_lab  # in-cluster configuration
    assert args.kvs_history.startswith("/data/") and args.kvs_report_dir.startswith("/data/")
    assert (args.kvs_baseline, args.kvs_fail_on) == ("latest", "regression")
    profile = load_profile(args.kvs_profile)
    assert profile.fio.repeats >= 3 and profile.regression.min_samples <= profile.fio.repeats
