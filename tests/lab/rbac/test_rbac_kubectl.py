"""RBAC in the lab, driven with kubectl the way a cluster admin grants and a tenant
uses permissions: ServiceAccount tokens, Roles and bindings, aggregated ClusterRoles,
`kubectl auth can-i` (and `--list`), and the apiserver's 401 and 403 wording."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from suite.lab import kubeconfig
from suite.lab.lab import Lab
from tests.conftest import Kubectl


@pytest.fixture(scope="module")
def ns(kubectl: Kubectl, unique_name: Callable[[str], str]) -> str:
    name = unique_name("rbac")
    kubectl("create", "namespace", name)
    return name


def _sa_kubeconfig(lab: Lab, tmp_path: Path, token: str) -> Path:
    return kubeconfig.write(tmp_path / "sa-kubeconfig", lab.server_url,
                            lab.server.tls.ca_pem(), token)


@pytest.fixture
def tenant(lab: Lab, kubectl: Kubectl, ns: str, tmp_path: Path,
           unique_name: Callable[[str], str]) -> tuple[str, Path]:
    """A fresh ServiceAccount in `ns` and a kubeconfig carrying a token from
    `kubectl create token`."""
    sa = unique_name("sa")
    kubectl("create", "serviceaccount", sa, "-n", ns)
    token = kubectl("create", "token", sa, "-n", ns).stdout.strip()
    return sa, _sa_kubeconfig(lab, tmp_path, token)


def test_a_new_service_account_may_do_almost_nothing(kubectl: Kubectl, ns: str,
                                                     tenant: tuple[str, Path]) -> None:
    sa, config = tenant
    result = kubectl("get", "pods", "-n", ns, kubeconfig=config, check=False)
    assert result.returncode != 0
    assert (f'pods is forbidden: User "system:serviceaccount:{ns}:{sa}" cannot list '
            f'resource "pods" in API group "" in the namespace "{ns}"') in result.stderr
    result = kubectl("get", "storageclasses", kubeconfig=config, check=False)
    assert ('cannot list resource "storageclasses" in API group "storage.k8s.io" at the '
            "cluster scope") in result.stderr
    # Discovery and self-reviews are open to every authenticated user.
    assert kubectl("auth", "can-i", "create", "pods", "-n", ns, kubeconfig=config,
                   check=False).stdout.strip() == "no"


@pytest.mark.slow
def test_a_role_binding_grants_exactly_its_rules(kubectl: Kubectl, ns: str,
                                                 tenant: tuple[str, Path]) -> None:
    sa, config = tenant
    kubectl("create", "role", f"{sa}-pods", "-n", ns, "--verb=get,list,watch",
            "--resource=pods,persistentvolumeclaims")
    kubectl("create", "rolebinding", f"{sa}-pods", "-n", ns, f"--role={sa}-pods",
            f"--serviceaccount={ns}:{sa}")
    assert kubectl("get", "pods", "-n", ns, kubeconfig=config).returncode == 0
    assert kubectl("auth", "can-i", "list", "pvc", "-n", ns,
                   kubeconfig=config).stdout.strip() == "yes"
    assert kubectl("auth", "can-i", "list", "pods", "-n", "default", kubeconfig=config,
                   check=False).stdout.strip() == "no"
    denied = kubectl("delete", "pod", "nothing", "-n", ns, kubeconfig=config, check=False)
    assert (f'pods "nothing" is forbidden: User "system:serviceaccount:{ns}:{sa}" cannot '
            f'delete resource "pods" in API group "" in the namespace "{ns}"'
            ) in denied.stderr
    listed = kubectl("auth", "can-i", "--list", "-n", ns, kubeconfig=config).stdout
    assert "pods" in listed and "selfsubjectaccessreviews.authorization.k8s.io" in listed


@pytest.mark.slow
def test_resource_names_and_subresources_narrow_a_rule(kubectl: Kubectl, ns: str,
                                                       tenant: tuple[str, Path]) -> None:
    sa, config = tenant
    kubectl("create", "role", f"{sa}-one", "-n", ns, "--verb=get",
            "--resource=configmaps", "--resource-name=allowed")
    kubectl("create", "role", f"{sa}-exec", "-n", ns, "--verb=create", "--resource=pods/exec")
    for role in ("one", "exec"):
        kubectl("create", "rolebinding", f"{sa}-{role}", "-n", ns, f"--role={sa}-{role}",
                f"--serviceaccount={ns}:{sa}")
    def can(*args: str) -> str:
        return kubectl("auth", "can-i", *args, "-n", ns, kubeconfig=config,
                       check=False).stdout.strip()
    assert can("get", "configmap/allowed") == "yes"
    assert can("get", "configmap/other") == "no"
    assert can("create", "pods", "--subresource=exec") == "yes"
    assert can("create", "pods") == "no"


@pytest.mark.slow
def test_cluster_roles_aggregate_kubevirt_and_cdi_rules(kubectl: Kubectl, ns: str,
                                                        tenant: tuple[str, Path]) -> None:
    sa, config = tenant
    kubectl("create", "rolebinding", f"{sa}-edit", "-n", ns, "--clusterrole=edit",
            f"--serviceaccount={ns}:{sa}")
    def can(*args: str) -> str:
        return kubectl("auth", "can-i", *args, "-n", ns, kubeconfig=config,
                       check=False).stdout.strip()
    assert can("create", "virtualmachines.kubevirt.io") == "yes"
    assert can("create", "datavolumes.cdi.kubevirt.io") == "yes"
    # kubectl cannot map subresources.kubevirt.io names; ask with a review object.
    review = kubectl("create", "--validate=false", "-o", "json", "-f", "-",
                     kubeconfig=config, stdin=json.dumps({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {
            "namespace": ns, "verb": "get", "group": "subresources.kubevirt.io",
            "resource": "virtualmachineinstances", "subresource": "console"}}})).stdout
    status = json.loads(review)["status"]
    assert status["allowed"] is True
    assert f'RoleBinding "{sa}-edit" in namespace "{ns}" of ClusterRole "edit"' in (
        status["reason"])
    assert can("create", "pods") == "yes"
    assert can("create", "rolebindings.rbac.authorization.k8s.io") == "no"  # admin only
    assert can("list", "storageclasses.storage.k8s.io") == "no"
    edit = kubectl("get", "clusterrole", "edit", "-o", "json").stdout
    assert '"virtualmachines"' in edit and '"datavolumes"' in edit


@pytest.mark.slow
def test_a_new_aggregated_role_reaches_view_soon(kubectl: Kubectl, ns: str,
                                                 tenant: tuple[str, Path]) -> None:
    sa, config = tenant
    kubectl("create", "rolebinding", f"{sa}-view", "-n", ns, "--clusterrole=view",
            f"--serviceaccount={ns}:{sa}")
    assert kubectl("auth", "can-i", "list", "storageclasses", kubeconfig=config,
                   check=False).stdout.strip() == "no"
    kubectl("apply", "-f", "-", stdin=f"""
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {sa}-agg
  labels: {{rbac.authorization.k8s.io/aggregate-to-view: "true"}}
rules:
- {{apiGroups: [""], resources: [secrets], verbs: [list]}}
""")
    answer = ""
    for _ in range(50):
        answer = kubectl("auth", "can-i", "list", "secrets", "-n", ns, kubeconfig=config,
                         check=False).stdout.strip()
        if answer == "yes":
            break
        time.sleep(0.1)
    assert answer == "yes"
    kubectl("delete", "clusterrole", f"{sa}-agg")


def test_unknown_expired_and_orphaned_tokens_get_401(lab: Lab, kubectl: Kubectl, ns: str,
                                                     tenant: tuple[str, Path],
                                                     tmp_path: Path) -> None:
    sa, config = tenant
    wrong = _sa_kubeconfig(lab, tmp_path / "wrong", "not-a-token")
    expired = _sa_kubeconfig(lab, tmp_path / "expired", lab.token_for(ns, sa, -1))
    for bad in (wrong, expired):
        result = kubectl("get", "pods", "-n", ns, kubeconfig=bad, check=False)
        assert result.returncode != 0
        assert "Unauthorized" in result.stderr or "provide credentials" in result.stderr
    kubectl("delete", "serviceaccount", sa, "-n", ns)
    result = kubectl("auth", "can-i", "get", "pods", kubeconfig=config, check=False)
    assert result.returncode != 0


def test_token_request_validates_and_needs_the_account(kubectl: Kubectl, ns: str) -> None:
    missing = kubectl("create", "token", "no-such-sa", "-n", ns, check=False)
    assert 'serviceaccounts "no-such-sa" not found' in missing.stderr
    kubectl("create", "serviceaccount", "short", "-n", ns)
    short = kubectl("create", "token", "short", "-n", ns, "--duration=60s", check=False)
    assert "may not specify a duration less than 10 minutes" in short.stderr


def test_a_service_account_cannot_reach_the_labs_own_endpoints(
        lab: Lab, kubectl: Kubectl, tenant: tuple[str, Path]) -> None:
    _, config = tenant
    result = kubectl("get", "--raw", "/lab/errors", kubeconfig=config, check=False)
    assert 'cannot get path "/lab/errors"' in result.stderr
