"""`python -m suite.lab serve --drivers FILE` serves exactly the classes of a hand-written
driver file (not the defaults), as kubectl sees them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

DRIVERS = """\
drivers:
  - name: gold-block
    provisioner: gold.csi.example.io
    defaultVirt: true
    modes:
      Block: [ReadWriteOnce, ReadWriteMany]
    expansion: online
    snapshots: true
    clone: snapshot
    encryption: luks
  - name: bronze-files
    provisioner: bronze.csi.example.io
    default: true
    volumeBindingMode: WaitForFirstConsumer
    modes:
      Filesystem: [ReadWriteOnce]
    limits: {iops: 100}
"""


def _kubectl(kubeconfig: Path, *args: str) -> str:
    result = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), *args],
                            capture_output=True, text=True, timeout=60, check=True)
    return result.stdout


@pytest.mark.slow
def test_serve_hand_written_drivers(tmp_path: Path) -> None:
    drivers, kubeconfig = tmp_path / "drivers.yaml", tmp_path / "kubeconfig"
    drivers.write_text(DRIVERS)
    proc = subprocess.Popen([sys.executable, "-m", "suite.lab", "serve", "--drivers",
                             str(drivers), "--kubeconfig", str(kubeconfig)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("lab listening on https://"), line
        classes = _kubectl(kubeconfig, "get", "sc", "-o",
                           "jsonpath={range .items[*]}{.metadata.name}={.provisioner} {end}")
        assert sorted(classes.split()) == ["bronze-files=bronze.csi.example.io",
                                           "gold-block=gold.csi.example.io"]
        snapclasses = _kubectl(kubeconfig, "get", "volumesnapshotclass", "-o", "name")
        assert snapclasses.split() == [
            "volumesnapshotclass.snapshot.storage.k8s.io/gold-block-snapclass"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_serve_refuses_a_bad_cluster_section_in_one_line(tmp_path: Path) -> None:
    drivers = tmp_path / "drivers.yaml"
    drivers.write_text(DRIVERS + "cluster:\n  guests: qemu\n")
    result = subprocess.run([sys.executable, "-m", "suite.lab", "serve", "--drivers",
                             str(drivers), "--kubeconfig", str(tmp_path / "kubeconfig")],
                            capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, KVSTORAGE_CACHE=str(tmp_path / "no-image")))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    # qemu guests without the built guest image (scripts/build_guest_initramfs.sh)
    assert "cluster.guests: QEMU guests need the guest image in" in lines[0]
