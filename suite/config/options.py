"""The command-line options, declared once for the pytest plugin and any offline command.

``add_options`` takes an ``addoption`` callable (a pytest option group's or an argparse
parser's ``add_argument``), so the same definitions serve both.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import Any

RUN_ID = re.compile(r"^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$")


def run_id_type(value: str) -> str:
    """A run id doubles as the namespace name and a label value: a short DNS label."""
    if not RUN_ID.match(value):
        raise argparse.ArgumentTypeError(
            f"invalid run id {value!r}: use 1-40 lowercase letters, digits and '-'")
    return value


def namespace_type(value: str) -> str:
    """An existing namespace's name: a DNS label."""
    if not re.match(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", value):
        raise argparse.ArgumentTypeError(f"invalid namespace name {value!r}")
    return value


def add_options(addoption: Callable[..., Any]) -> None:
    addoption("--lab", action="store_true", dest="kvs_lab", default=False,
              help="start the embedded lab cluster (default drivers) and test it")
    addoption("--lab-drivers", dest="kvs_lab_drivers", metavar="FILE", default=None,
              help="driver profile YAML for the embedded lab (implies --lab)")
    addoption("--kubeconfig", dest="kvs_kubeconfig", metavar="FILE", default=None,
              help="kubeconfig of the cluster to test (default: $KUBECONFIG, ~/.kube/config)")
    addoption("--context", dest="kvs_context", metavar="NAME", default=None,
              help="kubeconfig context to use (default: the current context)")
    addoption("--storage-class", dest="kvs_storage_classes", action="append", default=[],
              metavar="GLOB", help="StorageClass name or glob to test; repeatable "
              "(default: every class)")
    addoption("--profile", dest="kvs_profile", default="quick", metavar="NAME|FILE",
              help="run profile: a name in profiles/ or a YAML path (default: quick)")
    addoption("--report-dir", dest="kvs_report_dir", default="reports", metavar="DIR",
              help="where reports go: DIR/<run-id>/ and DIR/latest (default: reports)")
    addoption("--run-id", dest="kvs_run_id", default=None, type=run_id_type,
              help="id for this run (namespace name and label value; default: generated)")
    addoption("--namespace", dest="kvs_namespace", default=None, type=namespace_type,
              metavar="NAME", help="run inside this existing namespace instead of creating "
              "one (only what the run creates there is labelled and deleted)")
    addoption("--keep", dest="kvs_keep", action="store_true", default=False,
              help="leave the run's resources for debugging and print how to delete them")
    addoption("--sweep", dest="kvs_sweep", action="store_true", default=False,
              help="delete everything labelled by earlier runs, then exit")
