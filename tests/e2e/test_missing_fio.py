"""A guest image without fio gives an `inconclusive` perf cell that says how to fix it.

Air-gapped clusters often mirror a minimal image; the suite must not crash or invent a
figure there, and every other cell must still be judged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import PROFILE, run_suite


@pytest.mark.slow
def test_guest_without_fio_is_inconclusive_with_the_fix(lab_process: Any,
                                                        tmp_path: Path) -> None:
    lab = lab_process([{
        "name": "e2e-plain", "provisioner": "plain.csi.e2e.io",
        "volumeBindingMode": "Immediate", "modes": {"Filesystem": ["ReadWriteOnce"]},
        "expansion": "none", "snapshots": False, "clone": "copy", "encryption": "none",
        "faults": []}])
    profile = yaml.safe_load(PROFILE.read_text())
    profile["name"] = "nofio"
    profile["families"] = ["provision", "perf"]
    profile["guest"]["image"] = "registry.example.com/mirror/fedora-nofio:41"
    profile_path = tmp_path / "nofio.yaml"
    profile_path.write_text(yaml.safe_dump(profile, sort_keys=False))

    result = run_suite(lab.kubeconfig, tmp_path / "reports", "--profile", str(profile_path))
    (sc,) = result.matrix()["storageClasses"]
    perf = sc["capabilities"]["perf.fio"]
    assert perf["verdict"] == "inconclusive", perf
    assert "fio" in perf["reason"] and "image" in perf["reason"], perf["reason"]
    assert sc["capabilities"]["provision.filesystem.rwo"]["verdict"] == "supported"
    assert sc["performance"]["fio"] == []
    assert "Traceback" not in result.stdout + result.stderr
