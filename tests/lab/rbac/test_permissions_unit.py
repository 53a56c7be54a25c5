"""deploy/rbac.yaml is exactly what the suite's permission table generates, and the
preflight's messages name what is missing and who needs it."""

from __future__ import annotations

from pathlib import Path

import yaml

from suite.checks.base import FAMILY_CAPABILITIES
from suite.cluster.permissions import EVERY, PERMISSIONS, rbac_documents, render_rbac_yaml
from suite.cluster.preflight import Denial, Preflight

REPO = Path(__file__).resolve().parents[3]


def test_deploy_rbac_yaml_equals_the_generated_text() -> None:
    shipped = (REPO / "deploy" / "rbac.yaml").read_text()
    assert shipped == render_rbac_yaml(), (
        "deploy/rbac.yaml drifted: regenerate it with "
        "python -m suite.cluster.permissions > deploy/rbac.yaml")


def test_every_table_row_is_in_one_generated_role() -> None:
    docs = {(d["kind"], d["metadata"]["name"]): d
            for d in yaml.safe_load_all(render_rbac_yaml())}
    assert docs.keys() == {(d["kind"], d["metadata"]["name"]) for d in rbac_documents()}
    for row in PERMISSIONS:
        role = "kvstorage-suite:namespace" if row.scope == "namespace" else (
            "kvstorage-suite:cluster")
        rules = docs[("ClusterRole", role)]["rules"]
        match = [r for r in rules if r["apiGroups"] == [row.group]
                 and r["resources"] == [row.resource]]
        assert match and set(row.verbs) <= set(match[0]["verbs"]), row


def test_families_name_real_families_and_the_node_checks_are_optional() -> None:
    for row in PERMISSIONS:
        assert set(row.needed_by) <= {"run", EVERY, *FAMILY_CAPABILITIES}, row
    optional = {row.resource for row in PERMISSIONS if row.optional}
    assert optional == {"pods", "pods/log", "persistentvolumes"}


def test_the_missing_permissions_message_lists_each_with_scope_and_families() -> None:
    pvc = next(p for p in PERMISSIONS if p.resource == "persistentvolumeclaims")
    classes = next(p for p in PERMISSIONS if p.resource == "storageclasses")
    text = Preflight("create", [Denial("patch", pvc, "kvs-1"),
                                Denial("list", classes, "")]).message()
    lines = text.splitlines()
    assert lines[0].startswith("missing permissions: 2 required")
    assert lines[1] == ('  - patch persistentvolumeclaims (API group "" (core)) in namespace '
                        '"kvs-1"; needed by: every family')
    assert lines[2] == ("  - list storageclasses (API group storage.k8s.io) at cluster "
                        "scope; needed by: run")
