"""The ClusterRoles and bindings a fresh OpenShift Virtualization cluster has.

Sources: Kubernetes' bootstrap policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy:
cluster-admin, the aggregated admin/edit/view and their system:aggregate-to-* parts,
system:basic-user, system:discovery, system:public-info-viewer), KubeVirt's
(pkg/virt-operator/resource/generate/rbac/cluster.go: kubevirt.io:admin/edit/view/default),
CDI's (pkg/operator/resources/cluster/rbac.go: cdi.kubevirt.io:admin/edit/view and
config-reader) and OpenShift's self-provisioner and basic-user roles. Only the rules that
concern resources the lab serves, or that a user of it would look for, are kept.
"""

from __future__ import annotations

from typing import Any

RBAC_API = "rbac.authorization.k8s.io/v1"
AGG = "rbac.authorization.k8s.io/aggregate-to-"
READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]
SNAPSHOTS = "snapshot.storage.k8s.io"
ALL_KV = ["get", "delete", "create", "update", "patch", "list", "watch"]


def rule(groups: list[str], resources: list[str], verbs: list[str],
         names: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"verbs": verbs, "apiGroups": groups, "resources": resources}
    if names:
        out["resourceNames"] = names
    return out


def urls(paths: list[str], verbs: list[str]) -> dict[str, Any]:
    return {"verbs": verbs, "nonResourceURLs": paths}


def cluster_role(name: str, rules: list[dict[str, Any]], labels: dict[str, str] | None = None,
                 aggregate: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {
        "kubernetes.io/bootstrapping": "rbac-defaults", **(labels or {})},
        "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}}
    role: dict[str, Any] = {"apiVersion": RBAC_API, "kind": "ClusterRole", "metadata": meta,
                            "rules": rules}
    if aggregate:
        role["aggregationRule"] = {"clusterRoleSelectors": [
            {"matchLabels": {f"{AGG}{aggregate}": "true"}}]}
    return role


def binding(name: str, role: str, groups: list[str]) -> dict[str, Any]:
    return {"apiVersion": RBAC_API, "kind": "ClusterRoleBinding",
            "metadata": {"name": name, "labels": {
                "kubernetes.io/bootstrapping": "rbac-defaults"}},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": role},
            "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io",
                          "name": g} for g in groups]}


_CORE_VIEW = ["configmaps", "endpoints", "persistentvolumeclaims",
              "persistentvolumeclaims/status", "pods", "replicationcontrollers",
              "replicationcontrollers/scale", "serviceaccounts", "services", "services/status",
              "bindings", "events", "limitranges", "namespaces/status", "pods/log",
              "pods/status", "replicationcontrollers/status", "resourcequotas",
              "resourcequotas/status"]
_CORE_EDIT = ["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"]
_CORE_WRITE = ["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
               "replicationcontrollers/scale", "secrets", "serviceaccounts", "services",
               "services/proxy"]
_SUB_GET = ["virtualmachineinstances/console", "virtualmachineinstances/vnc",
            "virtualmachineinstances/guestosinfo", "virtualmachineinstances/filesystemlist",
            "virtualmachineinstances/userlist"]
_SUB_UPDATE = ["virtualmachineinstances/pause", "virtualmachineinstances/unpause",
               "virtualmachineinstances/addvolume", "virtualmachineinstances/removevolume",
               "virtualmachineinstances/freeze", "virtualmachineinstances/unfreeze",
               "virtualmachineinstances/softreboot", "virtualmachineinstances/portforward",
               "virtualmachines/start", "virtualmachines/stop", "virtualmachines/restart",
               "virtualmachines/addvolume", "virtualmachines/removevolume",
               "virtualmachines/migrate", "virtualmachines/memorydump"]
_KV = ["virtualmachines", "virtualmachineinstances", "virtualmachineinstancepresets",
       "virtualmachineinstancereplicasets", "virtualmachineinstancemigrations"]
_VMSNAP = ["virtualmachinesnapshots", "virtualmachinesnapshotcontents",
           "virtualmachinerestores"]
_CDI = ["datavolumes", "dataimportcrons", "datasources", "volumeimportsources",
        "volumeuploadsources", "volumeclonesources"]
_DISCOVERY = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
              "/openapi/*", "/readyz", "/version", "/version/"]


def _kubevirt(role: str) -> list[dict[str, Any]]:
    if role == "view":
        return [rule(["subresources.kubevirt.io"], _SUB_GET[2:], ["get"]),
                rule(["kubevirt.io"], _KV, READ), rule(["snapshot.kubevirt.io"], _VMSNAP, READ),
                rule(["export.kubevirt.io"], ["virtualmachineexports"], READ)]
    verbs = [*ALL_KV, "deletecollection"] if role == "admin" else ALL_KV
    rules = [rule(["subresources.kubevirt.io"], _SUB_GET, ["get"]),
             rule(["subresources.kubevirt.io"], _SUB_UPDATE, ["update"]),
             rule(["subresources.kubevirt.io"], ["virtualmachines/expand-spec",
                                                 "virtualmachines/portforward"], ["get"]),
             rule(["kubevirt.io"], _KV, verbs), rule(["snapshot.kubevirt.io"], _VMSNAP, verbs),
             rule(["export.kubevirt.io"], ["virtualmachineexports"], verbs)]
    if role == "edit":
        rules.append(rule(["kubevirt.io"], ["kubevirts"], ["get", "list"]))
    return rules


def _cdi(role: str) -> list[dict[str, Any]]:
    if role == "view":
        return [rule(["cdi.kubevirt.io"], ["cdiconfigs", *_CDI, "objecttransfers",
                                          "storageprofiles"], READ),
                rule(["cdi.kubevirt.io"], ["datavolumes/source"], ["create"])]
    return [rule(["cdi.kubevirt.io"], _CDI, ["*"]),
            rule(["cdi.kubevirt.io"], ["datavolumes/source"], ["create"]),
            rule(["upload.cdi.kubevirt.io"], ["uploadtokenrequests"], ["*"])]


def default_cluster_roles() -> list[dict[str, Any]]:
    """Every default ClusterRole (aggregated ones start empty; the controller fills them)."""
    return [
        cluster_role("cluster-admin", [rule(["*"], ["*"], ["*"]), urls(["*"], ["*"])]),
        cluster_role("admin", [], aggregate="admin"),
        cluster_role("edit", [], {f"{AGG}admin": "true"}, aggregate="edit"),
        cluster_role("view", [], {f"{AGG}edit": "true"}, aggregate="view"),
        cluster_role("system:aggregate-to-admin", [
            rule(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
            rule(["rbac.authorization.k8s.io"], ["rolebindings", "roles"], [*WRITE, *READ])],
            {f"{AGG}admin": "true"}),
        cluster_role("system:aggregate-to-edit", [
            rule([""], _CORE_EDIT, WRITE),
            rule([""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy",
                        "secrets", "services/proxy"], READ),
            rule([""], ["serviceaccounts"], ["impersonate"]),
            rule([""], _CORE_WRITE, WRITE),
            rule([""], ["serviceaccounts/token"], ["create"])],
            {f"{AGG}edit": "true"}),
        cluster_role("system:aggregate-to-view", [
            rule([""], _CORE_VIEW, READ), rule([""], ["namespaces"], READ)],
            {f"{AGG}view": "true"}),
        # OpenShift's additions to admin/view (its bootstrap policy aggregates them).
        cluster_role("system:openshift:aggregate-to-admin", [
            rule(["project.openshift.io"], ["projects"], ["delete", "get", "patch",
                                                          "update"])],
            {f"{AGG}admin": "true"}),
        cluster_role("system:openshift:aggregate-to-view", [
            rule(["project.openshift.io"], ["projects"], ["get"])],
            {f"{AGG}view": "true"}),
        # OpenShift lets project admins and editors use CSI snapshots (its
        # csi-snapshot-controller operator ships these aggregated roles).
        cluster_role("system:openshift:aggregate-snapshots-to-admin", [
            rule([SNAPSHOTS], ["volumesnapshots"], [*WRITE, *READ])],
            {f"{AGG}admin": "true"}),
        cluster_role("system:openshift:aggregate-snapshots-to-view", [
            rule([SNAPSHOTS], ["volumesnapshots"], READ)], {f"{AGG}view": "true"}),
        cluster_role("system:basic-user", [
            rule(["authorization.k8s.io"], ["selfsubjectaccessreviews",
                                            "selfsubjectrulesreviews"], ["create"])]),
        cluster_role("system:discovery", [urls(_DISCOVERY, ["get"])]),
        cluster_role("system:public-info-viewer", [
            urls(["/healthz", "/livez", "/readyz", "/version", "/version/"], ["get"])]),
        cluster_role("basic-user", [
            rule(["project.openshift.io"], ["projects"], ["list", "watch"]),
            rule(["authorization.k8s.io"], ["selfsubjectrulesreviews"], ["create"])]),
        cluster_role("self-provisioner", [
            rule(["project.openshift.io"], ["projectrequests"], ["create"])]),
        cluster_role("kubevirt.io:default", [
            rule(["subresources.kubevirt.io"], ["version"], ["get", "list"])]),
        *(cluster_role(f"kubevirt.io:{r}", _kubevirt(r), {f"{AGG}{r}": "true"})
          for r in ("admin", "edit", "view")),
        *(cluster_role(f"cdi.kubevirt.io:{r}", _cdi(r), {f"{AGG}{r}": "true"})
          for r in ("admin", "edit", "view")),
        cluster_role("cdi.kubevirt.io:config-reader", [
            rule(["cdi.kubevirt.io"], ["cdiconfigs", "storageprofiles"], READ)]),
    ]


def default_bindings() -> list[dict[str, Any]]:
    authenticated = ["system:authenticated"]
    return [
        binding("cluster-admin", "cluster-admin", ["system:masters"]),
        binding("system:basic-user", "system:basic-user", authenticated),
        binding("system:discovery", "system:discovery", authenticated),
        binding("system:public-info-viewer", "system:public-info-viewer",
                ["system:authenticated", "system:unauthenticated"]),
        binding("basic-users", "basic-user", authenticated),
        # OpenShift grants project self-provisioning to users who log in through OAuth,
        # not to ServiceAccounts: those need an explicit binding, as on a real cluster.
        binding("self-provisioners", "self-provisioner", ["system:authenticated:oauth"]),
        binding("kubevirt.io:default", "kubevirt.io:default",
                ["system:authenticated", "system:unauthenticated"]),
        binding("cdi.kubevirt.io:config-reader", "cdi.kubevirt.io:config-reader",
                ["system:authenticated", "system:serviceaccount"]),
    ]
