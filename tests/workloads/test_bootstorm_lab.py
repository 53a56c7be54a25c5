"""scale.bootstorm against a private lab: honest clones verify, a lying clone is broken.

The family is called directly (as tests/checks do) so a wrong verdict points at it;
the figures must be real timings of every VM, and the strategy the one CDI used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from suite.checks import bootstorm
from suite.config.profile import Scale, Sizes
from tests.checks.labhelp import class_context, fast_profile, kube_in_new_namespace

DRIVERS = """
drivers:
  - name: lab-csi
    provisioner: csi.csi.lab.io
    volumeBindingMode: Immediate
    modes:
      Filesystem: [ReadWriteOnce]
    expansion: none
    snapshots: false
    clone: csi-clone
    encryption: none
  - name: lab-zeroes
    provisioner: zero.csi.lab.io
    volumeBindingMode: Immediate
    modes:
      Filesystem: [ReadWriteOnce]
    expansion: none
    snapshots: false
    clone: copy
    encryption: none
    faults: [clone-returns-zeroes]
"""
VMS = 3


def _profile():  # type: ignore[no-untyped-def]
    return fast_profile(sizes=replace(Sizes(), disk_bytes=32 << 20),
                        scale=Scale(bootstorm_vms=VMS, bootstorm_image_bytes=8 << 20))


@pytest.mark.slow
def test_bootstorm_verifies_every_clone_and_catches_zeroes(lab_factory: Callable) -> None:
    lab = lab_factory(DRIVERS)
    kube = kube_in_new_namespace(lab.kubeconfig_path)
    honest = bootstorm.assess(class_context(kube, "lab-csi", _profile()))[0]
    assert honest.verdict == "supported", honest.reason
    evidence = honest.evidence
    assert evidence["vms"] == VMS and len(evidence["perVm"]) == VMS
    assert evidence["cloneStrategies"] == {"csi-clone": VMS}, evidence
    for key in ("loginSeconds", "readySeconds"):
        fig = evidence[key]
        assert 0 < fig["p50"] <= fig["p95"] <= fig["max"], evidence
    assert all(v["sha256"] == evidence["sourceSha256"] for v in evidence["perVm"])
    assert "login p50" in honest.reason and "image read p95" in honest.reason

    lying = bootstorm.assess(class_context(kube, "lab-zeroes", _profile()))[0]
    assert lying.verdict == "broken", lying.reason
    assert f"{VMS} of {VMS} clones hold zeroes" in lying.reason
    assert "copy" in lying.reason  # the strategy CDI used is named
