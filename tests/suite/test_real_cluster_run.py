"""Run-level rules for strict clusters: namespace labels and the summary of unfit classes."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from suite.config.profile import NodeChecks, Profile
from suite.report.terminal import not_tested_lines
from suite.session import namespace_labels


def run_with(privileged: bool) -> Any:
    profile = replace(Profile(name="t"), node_checks=NodeChecks(privileged_pods=privileged))
    return SimpleNamespace(profile=profile)


def test_privileged_labels_only_when_node_checks_are_allowed() -> None:
    labels = namespace_labels(run_with(True))
    for level in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{level}"] == "privileged"
    assert labels["security.openshift.io/scc.podSecurityLabelSync"] == "false"
    assert namespace_labels(run_with(False)) == {}


def test_summary_names_classes_that_cannot_hold_disks() -> None:
    matrix = {"storageClasses": [
        {"name": "gold", "provisioner": "rbd.csi.ceph.com", "facts": {"notForDisks": None}},
        {"name": "local", "provisioner": "kubernetes.io/no-provisioner",
         "facts": {"notForDisks": "static local volumes only (no dynamic provisioning)"}},
    ]}
    lines = not_tested_lines(matrix)
    assert lines[0].startswith("not tested, cannot hold VM disks")
    assert lines[1:] == ["  local (kubernetes.io/no-provisioner): static local volumes only "
                         "(no dynamic provisioning)"]
    assert not_tested_lines({"storageClasses": matrix["storageClasses"][:1]}) == []
