"""fio on an air-gapped cluster: cloud-init cannot install it, so the image must carry it.

With the default Fedora image (no fio) the perf cell is `inconclusive` and its reason
names the fix (`guest.image` with fio); with a mirrored image that has fio, the same
cluster measures. Every other cell is judged as usual. One lab serves both runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import labelled_leftovers, run_suite
from tests.e2e.test_cluster_section import lean_profile
from tests.e2e.test_truth import driver
from tests.e2e.truth import DEFAULT_IMAGE, expected_cells

FIO_IMAGE = "registry.example.com/mirror/fedora-fio:41"
AIR_GAPPED = {"guestPackages": "air-gapped",
              "images": {DEFAULT_IMAGE: {"fio": False}, FIO_IMAGE: {"fio": True}}}
PLAIN = driver("e2e-plain", noise=["provision-retry"])
FAMILIES = ["provision", "perf"]


def test_air_gapped_guest_needs_an_image_with_fio(lab_process: Any, tmp_path: Path) -> None:
    lab = lab_process([PLAIN], AIR_GAPPED)

    plain = run_suite(lab.kubeconfig, tmp_path / "plain", "--profile",
                      str(lean_profile(tmp_path, "airgapped", FAMILIES)))
    (sc,) = plain.matrix()["storageClasses"]
    perf = sc["capabilities"]["perf.fio"]
    assert expected_cells(PLAIN, AIR_GAPPED)["perf.fio"] == "inconclusive"
    assert perf["verdict"] == "inconclusive", perf
    assert "guest.image" in perf["reason"] and "fio" in perf["reason"], perf["reason"]
    assert perf["seconds"] < 30, perf  # known from the first login: no VM booted for it
    assert sc["capabilities"]["provision.filesystem.rwo"]["verdict"] == "supported"
    assert sc["performance"]["fio"] == []

    mirrored = run_suite(lab.kubeconfig, tmp_path / "mirrored", "--profile",
                         str(lean_profile(tmp_path, "mirrored", FAMILIES, image=FIO_IMAGE,
                                          packages=[])))
    (sc,) = mirrored.matrix()["storageClasses"]
    assert expected_cells(PLAIN, AIR_GAPPED, FIO_IMAGE)["perf.fio"] == "supported"
    assert sc["capabilities"]["perf.fio"]["verdict"] == "supported", sc["capabilities"]
    assert sc["performance"]["fio"]
    assert labelled_leftovers(lab.kubeconfig) == []
    assert "Traceback" not in plain.stdout + plain.stderr + mirrored.stdout + mirrored.stderr
