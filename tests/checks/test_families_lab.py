"""Focused runs of the families against a private lab whose drivers lie.

The e2e truth tests run the whole suite; these call `assess` directly, so a wrong
verdict points at the family, and they prove each lie is caught from the user's bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from suite.checks import clone, encryption, expand, migration, provision
from suite.checks.base import Outcome
from suite.config.profile import Sizes
from tests.checks.labhelp import FAST, class_context, fast_profile, kube_in_new_namespace

DRIVERS = """
drivers:
  - name: lab-liar
    provisioner: liar.csi.lab.io
    volumeBindingMode: Immediate
    modes:
      Block: [ReadWriteOnce, ReadWriteMany]
    expansion: online
    snapshots: true
    clone: csi-clone
    encryption: luks
    faults: [clone-returns-zeroes, online-expansion-invisible-to-guest, migration-fails,
             encryption-not-applied]
  - name: lab-hang
    provisioner: hang.csi.lab.io
    volumeBindingMode: Immediate
    modes:
      Filesystem: [ReadWriteOnce]
    expansion: online
    snapshots: false
    clone: copy
    encryption: none
    faults: [provisioning-hangs]
"""


def verdicts(outcomes: list[Outcome]) -> dict[str, str]:
    return {o.capability: o.verdict for o in outcomes}


def reasons(outcomes: list[Outcome]) -> str:
    return "; ".join(f"{o.capability}: {o.verdict}: {o.reason}" for o in outcomes)


@pytest.mark.extended
@pytest.mark.slow  # five families against a lying lab: half a minute even when idle
def test_each_lie_is_broken_and_nothing_else(lab_factory: Callable) -> None:
    lab = lab_factory(DRIVERS)
    kube = kube_in_new_namespace(lab.kubeconfig_path)
    small = replace(Sizes(), disk_bytes=64 << 20, expanded_disk_bytes=128 << 20)
    ctx = class_context(kube, "lab-liar",
                        fast_profile(sizes=small, timeouts=replace(FAST, expand_s=8)))
    try:
        cloned = clone.assess(ctx)
        grown = expand.assess(ctx)
        moved = migration.assess(ctx)
        sealed = encryption.assess(ctx)
    finally:
        assert not kube.cleanup.run_all()
    assert verdicts(cloned) == {"clone.volume": "broken"}, reasons(cloned)
    assert "zeroes" in cloned[0].reason and "csi-clone" in cloned[0].reason
    assert verdicts(grown) == {"expand.offline": "supported",
                               "expand.online": "broken"}, reasons(grown)
    assert grown[1].evidence["guestSizeAfter"] == grown[1].evidence["guestSizeBefore"]
    assert verdicts(moved) == {"migration.live": "broken"}, reasons(moved)
    assert "Failed" in moved[0].reason
    assert verdicts(sealed) == {"encryption.at-rest": "broken"}, reasons(sealed)
    assert sealed[0].evidence["node"]["rawMarker"] == "found"


@pytest.mark.slow
def test_hanging_claims_are_broken_refused_modes_unsupported(lab_factory: Callable) -> None:
    lab = lab_factory(DRIVERS)
    kube = kube_in_new_namespace(lab.kubeconfig_path)
    ctx = class_context(kube, "lab-hang", fast_profile(timeouts=replace(FAST, bind_s=3)))
    try:
        provisioned = provision.assess(ctx)
        grown = expand.assess(ctx)
    finally:
        assert not kube.cleanup.run_all()
    assert verdicts(provisioned) == {
        "provision.block.rwo": "unsupported", "provision.block.rwx": "unsupported",
        "provision.filesystem.rwo": "broken",
        "provision.filesystem.rwx": "unsupported"}, reasons(provisioned)
    assert "never provisioned" in provisioned[2].reason
    assert {o.verdict for o in grown} == {"skipped"}  # the memo knows: no second wait
    assert all(o.seconds < 1 for o in grown)


ONE_NODE = """
cluster:
  schedulableNodes: 1
drivers:
  - name: lab-shared
    provisioner: shared.csi.lab.io
    volumeBindingMode: Immediate
    modes:
      Block: [ReadWriteOnce, ReadWriteMany]
    expansion: none
    snapshots: false
    clone: copy
    encryption: none
"""


@pytest.mark.slow
def test_an_unschedulable_migration_target_is_the_environments_fault(
        lab_factory: Callable) -> None:
    lab = lab_factory(ONE_NODE)
    kube = kube_in_new_namespace(lab.kubeconfig_path)
    ctx = class_context(kube, "lab-shared", fast_profile(timeouts=replace(FAST,
                                                                          migration_s=15)))
    assert len(ctx.facts["virtualization"]["schedulableNodes"]) == 1
    try:
        at_once = migration.assess(ctx)  # discovery already says: one node
        # pretend discovery saw two nodes: the migration itself must show the cause
        virt = {**ctx.facts["virtualization"], "schedulableNodes": ["a", "b"]}
        ctx.facts = {**ctx.facts, "virtualization": virt}
        tried = migration.assess(ctx)
    finally:
        assert not kube.cleanup.run_all()
    assert verdicts(at_once) == {"migration.live": "inconclusive"}, reasons(at_once)
    assert "second schedulable node" in at_once[0].reason and at_once[0].seconds < 1
    assert verdicts(tried) == {"migration.live": "inconclusive"}, reasons(tried)
    assert "target pod could not be scheduled" in tried[0].reason
