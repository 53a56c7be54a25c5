"""The suite inside a pod: no kubeconfig, the ServiceAccount's token and CA files and
``KUBERNETES_SERVICE_HOST/PORT``, as the nightly CronJob runs it.

The lab plays the cluster; its token and CA are written where a pod has them (a temp
folder named by ``KVS_SERVICEACCOUNT_DIR``), HOME points at an empty folder so no
``~/.kube/config`` is found, and the suite is started without ``--kubeconfig``.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.e2e.conftest import PROFILE, REPO, start_lab

pytestmark = [pytest.mark.extended, pytest.mark.slow]


def pod_files(kubeconfig: Path, folder: Path) -> tuple[str, int]:
    """Write ``token`` and ``ca.crt`` as a pod has them; returns the API host and port."""
    data = yaml.safe_load(kubeconfig.read_text())
    cluster = data["clusters"][0]["cluster"]
    folder.mkdir()
    (folder / "token").write_text(data["users"][0]["user"]["token"])
    (folder / "ca.crt").write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
    url = urlsplit(cluster["server"])
    assert url.hostname and url.port
    return url.hostname, url.port


def test_suite_runs_with_the_in_cluster_configuration(tmp_path: Path) -> None:
    lab = start_lab(tmp_path, [{
        "name": "e2e-pod", "provisioner": "pod.csi.e2e.io", "volumeBindingMode": "Immediate",
        "modes": {"Block": ["ReadWriteOnce"]}, "expansion": "none", "snapshots": False,
        "clone": "copy", "encryption": "none", "faults": []}])
    try:
        host, port = pod_files(lab.kubeconfig, tmp_path / "serviceaccount")
        (tmp_path / "home").mkdir()
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        env.update(HOME=str(tmp_path / "home"), KUBERNETES_SERVICE_HOST=host,
                   KUBERNETES_SERVICE_PORT=str(port), PYTHONUNBUFFERED="1",
                   KVS_SERVICEACCOUNT_DIR=str(tmp_path / "serviceaccount"))
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "suite", "-p", "no:cacheprovider", "--profile",
             str(PROFILE), "--report-dir", str(tmp_path / "reports"), "-k",
             "provision.block.rwo"], cwd=REPO, env=env, capture_output=True, text=True,
            timeout=600)
    finally:
        lab.stop()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "test_capability[e2e-pod-provision.block.rwo] PASSED" in done.stdout or (
        "1 passed" in done.stdout), done.stdout[-2000:]
    assert (tmp_path / "reports" / "history.sqlite").is_file()


def test_a_pod_without_its_token_gets_one_line(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env.update(HOME=str(tmp_path / "home"), KUBERNETES_SERVICE_HOST="127.0.0.1",
               KUBERNETES_SERVICE_PORT="1", KVS_SERVICEACCOUNT_DIR=str(tmp_path / "none"))
    done = subprocess.run([sys.executable, "-m", "pytest", "suite", "-p", "no:cacheprovider"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 4 and "Traceback" not in done.stderr + done.stdout
    assert "in-cluster configuration is not usable" in done.stderr + done.stdout
