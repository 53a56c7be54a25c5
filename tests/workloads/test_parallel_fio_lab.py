"""Parallel fio on the lab: the job set in two VMs at once, combined without lying.

A limited class's volumes share one throttle group (as a real array's class QoS), so
two VMs on a class limited to N IOPS get about N together, not N each: the aggregate is
the sum of the VMs (not an average), the spread between them is reported, and the
merged percentiles come from summed histograms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from suite.checks import perf
from suite.config.profile import Scale, Sizes
from suite.fio.jobs import parse_fio_section
from tests.checks.labhelp import class_context, fast_profile, kube_in_new_namespace

LIMIT = 300
DRIVERS = f"""
drivers:
  - name: lab-limited
    provisioner: limited.csi.lab.io
    volumeBindingMode: Immediate
    modes:
      Block: [ReadWriteOnce]
    expansion: none
    snapshots: false
    clone: copy
    encryption: none
    limits: {{iops: {LIMIT}}}
"""
JOBS = {"sizeMiB": 16, "jobs": [{"name": "qd8-randread", "rw": "randread", "bs": "4k",
                                 "iodepth": 8, "runtime_s": 3}]}


@pytest.mark.slow
@pytest.mark.extended  # the assessment truth run (extended) covers parallel fio end to end
def test_two_vms_at_once_add_up_and_show_their_spread(lab_factory: Callable) -> None:
    lab = lab_factory(DRIVERS)
    kube = kube_in_new_namespace(lab.kubeconfig_path)
    profile = fast_profile(sizes=replace(Sizes(), perf_disk_bytes=48 << 20),
                           fio=parse_fio_section(JOBS, "test"), scale=Scale(fio_vms=2),
                           reuse_vms=False)
    ctx = class_context(kube, "lab-limited", profile)
    (outcome,) = perf.assess(ctx)
    assert outcome.verdict == "supported", outcome.reason
    assert "error" not in outcome.evidence.get("parallel", {}), outcome.evidence
    single = next(e for e in ctx.performance if e["job"] == "qd8-randread")
    together = next(e for e in ctx.performance if e["job"] == "qd8-randread-x2vm")
    spread = together["spreadBetweenVms"]
    assert together["vms"] == 2 and len(spread["iopsPerVm"]) == 2
    assert abs(together["readIops"] - sum(spread["iopsPerVm"])) <= 0.02 * together["readIops"]
    assert 1.0 <= spread["iopsRatio"] < 1.5, spread  # equal VMs, one shared limit
    assert abs(sum(spread["iopsPerVm"]) - LIMIT) <= 0.2 * LIMIT, spread  # shared, not 2N
    for each in spread["iopsPerVm"]:
        assert each >= 0.25 * LIMIT, spread  # each VM gets its share
    assert abs(single["readIops"] - LIMIT) <= 0.2 * LIMIT, single
    assert together["latencyUs"]["p99"] >= together["latencyUs"]["p50"] > 0
