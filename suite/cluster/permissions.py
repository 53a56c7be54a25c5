"""Every permission a run uses, in one table: the preflight checks it and
`deploy/rbac.yaml` is generated from it (`python -m suite.cluster.permissions`), so the
shipped role and the suite's needs cannot drift apart (tests compare both with the
calls a real run makes).

A row is a set of verbs on one resource, at cluster scope or in the run's namespace,
with the families that need it (`run` for the session itself). Optional rows are the
node checks' (a privileged pod reading the node): without them those cells are
`inconclusive`, not the run stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

RUN = "run"
EVERY = "every family"  # anything a VM needs: every family boots VMs
CLUSTER = "cluster"
NAMESPACE = "namespace"
LIFECYCLE = "lifecycle"  # creating and deleting the run's own namespace
OBJECT_VERBS = ("create", "get", "list", "watch", "delete")


@dataclass(frozen=True)
class Permission:
    """Verbs on one resource (`plural` or `plural/sub`) of one API group."""

    verbs: tuple[str, ...]
    group: str
    resource: str
    scope: str  # CLUSTER, NAMESPACE or LIFECYCLE (cluster scope, only when creating one)
    needed_by: tuple[str, ...]
    optional: bool = False

    @property
    def qualified(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource

    def wanted_by(self, families: tuple[str, ...] | list[str]) -> bool:
        if RUN in self.needed_by or (EVERY in self.needed_by and families):
            return True
        return any(f in self.needed_by for f in families)


def _p(verbs: tuple[str, ...] | str, group: str, resource: str, scope: str,
       needed_by: tuple[str, ...] | str = EVERY, optional: bool = False) -> Permission:
    verbs = (verbs,) if isinstance(verbs, str) else verbs
    needed_by = (needed_by,) if isinstance(needed_by, str) else needed_by
    return Permission(verbs, group, resource, scope, needed_by, optional)


SNAP = "snapshot.storage.k8s.io"
KV = "kubevirt.io"
SUB = "subresources.kubevirt.io"
CDI = "cdi.kubevirt.io"
VMSNAP = "snapshot.kubevirt.io"
NODE_CHECKS = ("encryption",)

PERMISSIONS: tuple[Permission, ...] = (
    # Discovery: what the cluster offers (read once, before anything is created).
    _p("list", "storage.k8s.io", "storageclasses", CLUSTER, RUN),
    _p("list", "storage.k8s.io", "csidrivers", CLUSTER, RUN),
    _p("list", "storage.k8s.io", "csinodes", CLUSTER, RUN),
    _p("list", CDI, "storageprofiles", CLUSTER, RUN),
    _p("list", CDI, "cdis", CLUSTER, RUN),
    _p("list", KV, "kubevirts", CLUSTER, RUN),
    _p("list", "", "nodes", CLUSTER, RUN),
    _p("list", SNAP, "volumesnapshotclasses", CLUSTER, RUN),
    # The run's namespace, when the suite creates it.
    _p(("create", "list", "watch", "delete"), "", "namespaces", LIFECYCLE, RUN),
    # What the families create and watch in the run's namespace.
    _p(OBJECT_VERBS, "", "secrets", NAMESPACE),
    _p("list", "", "events", NAMESPACE),
    _p((*OBJECT_VERBS, "patch"), "", "persistentvolumeclaims", NAMESPACE),
    _p(OBJECT_VERBS, KV, "virtualmachines", NAMESPACE),
    _p(("get", "list", "watch"), KV, "virtualmachineinstances", NAMESPACE),
    _p("update", SUB, "virtualmachines/start", NAMESPACE),
    _p("update", SUB, "virtualmachines/stop", NAMESPACE),
    _p("get", SUB, "virtualmachineinstances/console", NAMESPACE),
    _p(("get", "list", "watch"), CDI, "datavolumes", NAMESPACE),
    _p(OBJECT_VERBS, SNAP, "volumesnapshots", NAMESPACE, ("snapshot", "clone")),
    _p(OBJECT_VERBS, VMSNAP, "virtualmachinesnapshots", NAMESPACE, "snapshot"),
    _p(OBJECT_VERBS, VMSNAP, "virtualmachinerestores", NAMESPACE, "snapshot"),
    _p(OBJECT_VERBS, KV, "virtualmachineinstancemigrations", NAMESPACE, "migration"),
    _p(OBJECT_VERBS, CDI, "datavolumes", NAMESPACE, "hotplug"),
    _p("update", SUB, "virtualmachineinstances/addvolume", NAMESPACE, "hotplug"),
    _p("update", SUB, "virtualmachineinstances/removevolume", NAMESPACE, "hotplug"),
    _p(OBJECT_VERBS, "export.kubevirt.io", "virtualmachineexports", NAMESPACE, "export"),
    # Node checks: a privileged one-shot pod that reads the node below a volume.
    _p("get", "", "persistentvolumes", CLUSTER, NODE_CHECKS, optional=True),
    _p(OBJECT_VERBS, "", "pods", NAMESPACE, NODE_CHECKS, optional=True),
    _p("get", "", "pods/log", NAMESPACE, NODE_CHECKS, optional=True),
)

SERVICE_ACCOUNT = "kvstorage-suite"
HOME_NAMESPACE = "kvstorage-suite"
HEADER = """\
# Least-privilege RBAC for kubevirt-storage-suite. Generated from the suite's permission
# table (suite/cluster/permissions.py: python -m suite.cluster.permissions > deploy/rbac.yaml);
# a test keeps the two equal. Apply with: kubectl apply -f deploy/rbac.yaml
# then run with a token: kubectl create token kvstorage-suite -n kvstorage-suite
#
# kvstorage-suite:cluster     cluster-scoped reads, the run's own namespace, and the node
#                             checks' PersistentVolume reads (optional)
# kvstorage-suite:namespace   what a run creates in its namespace; bound cluster-wide here
#                             because each run makes a new namespace. To confine it, bind it
#                             with a RoleBinding in one namespace and run with --namespace.
"""


def _rules(rows: list[Permission]) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        merged.setdefault((row.group, row.resource), set()).update(row.verbs)
    return [{"apiGroups": [group], "resources": [resource], "verbs": sorted(verbs)}
            for (group, resource), verbs in sorted(merged.items())]


def _role(name: str, rows: list[Permission]) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name}, "rules": _rules(rows)}


def _binding(role: str) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": role},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT,
                          "namespace": HOME_NAMESPACE}]}


def rbac_documents(table: tuple[Permission, ...] = PERMISSIONS) -> list[dict[str, Any]]:
    """The objects of deploy/rbac.yaml, in apply order."""
    cluster = [p for p in table if p.scope in (CLUSTER, LIFECYCLE)]
    namespaced = [p for p in table if p.scope == NAMESPACE]
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": HOME_NAMESPACE}},
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": SERVICE_ACCOUNT, "namespace": HOME_NAMESPACE}},
        _role(f"{SERVICE_ACCOUNT}:cluster", cluster),
        _role(f"{SERVICE_ACCOUNT}:namespace", namespaced),
        _binding(f"{SERVICE_ACCOUNT}:cluster"),
        _binding(f"{SERVICE_ACCOUNT}:namespace"),
    ]


def render_rbac_yaml(table: tuple[Permission, ...] = PERMISSIONS) -> str:
    """deploy/rbac.yaml's text."""
    body = yaml.safe_dump_all(rbac_documents(table), sort_keys=False,
                              default_flow_style=None, width=100)
    return HEADER + "---\n" + body


if __name__ == "__main__":
    print(render_rbac_yaml(), end="")
