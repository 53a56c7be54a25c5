"""RBAC over the API as clients see it: ProjectRequest and Projects, watches and the
connect-style subresources (console, exec) authorized like any request, and the rules
review. Requests go over HTTPS with a ServiceAccount's bearer token."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import urllib3

from suite.lab.lab import Lab


class Caller:
    """Raw HTTPS calls to the lab with one bearer token."""

    def __init__(self, lab: Lab, token: str) -> None:
        ca = lab.state_dir / "tls-ca.pem" if lab.state_dir else None
        assert ca is not None
        ca.write_bytes(lab.server.tls.ca_pem())
        self.pool = urllib3.PoolManager(ca_certs=str(ca), cert_reqs="CERT_REQUIRED")
        self.base = lab.server_url
        self.token = token

    def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}",
                   "Content-Type": "application/json"}
        data = json.dumps(body).encode() if body is not None else None
        response = self.pool.request(method, self.base + path, body=data, headers=headers,
                                     timeout=10.0)
        text = response.data.decode()
        return response.status, json.loads(text) if text.startswith("{") else text


@pytest.fixture
def account(lab: Lab, unique_name: Callable[[str], str]) -> Iterator[tuple[str, str]]:
    """(namespace, name) of a fresh ServiceAccount in its own namespace."""
    admin = Caller(lab, lab.token)
    ns, name = unique_name("rbacapi"), unique_name("sa")
    assert admin("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})[0] == 201
    assert admin("POST", f"/api/v1/namespaces/{ns}/serviceaccounts",
                 {"metadata": {"name": name}})[0] == 201
    yield ns, name
    admin("DELETE", f"/api/v1/namespaces/{ns}")


def _bind(lab: Lab, ns: str, sa: str, role: str, cluster: bool = False,
          where: str | None = None) -> None:
    admin = Caller(lab, lab.token)
    subject = [{"kind": "ServiceAccount", "name": sa, "namespace": ns}]
    ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}
    if cluster:
        path = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"
        body = {"metadata": {"name": f"{ns}-{sa}-{role}"}, "roleRef": ref, "subjects": subject}
    else:
        path = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{where or ns}/rolebindings"
        body = {"metadata": {"name": f"{sa}-{role}"}, "roleRef": ref, "subjects": subject}
    status, reply = admin("POST", path, body)
    assert status == 201, reply


def _cluster_role(lab: Lab, name: str, rules: list[dict[str, Any]]) -> None:
    status, reply = Caller(lab, lab.token)(
        "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        {"metadata": {"name": name}, "rules": rules})
    assert status == 201, reply


def test_a_user_allowed_only_project_requests_gets_a_project_it_administers(
        lab: Lab, account: tuple[str, str], unique_name: Callable[[str], str]) -> None:
    ns, sa = account
    user = f"system:serviceaccount:{ns}:{sa}"
    _bind(lab, ns, sa, "self-provisioner", cluster=True)
    me = Caller(lab, lab.token_for(ns, sa))
    project = unique_name("proj")
    status, reply = me("POST", "/api/v1/namespaces", {"metadata": {"name": project}})
    assert status == 403
    assert reply["message"] == (f'namespaces is forbidden: User "{user}" cannot create '
                                'resource "namespaces" in API group "" at the cluster scope')
    status, reply = me("POST", "/apis/project.openshift.io/v1/projectrequests",
                       {"kind": "ProjectRequest", "apiVersion": "project.openshift.io/v1",
                        "metadata": {"name": project}})
    assert status == 201, reply
    assert reply["kind"] == "Project"
    assert reply["metadata"]["annotations"]["openshift.io/requester"] == user
    # The requester administers it: create a PVC and read the namespace.
    assert me("GET", f"/api/v1/namespaces/{project}")[0] == 200
    status, _ = me("POST", f"/api/v1/namespaces/{project}/configmaps",
                   {"metadata": {"name": "x"}})
    assert status == 201
    assert me("GET", "/api/v1/namespaces/default")[0] == 403
    listed = me("GET", "/apis/project.openshift.io/v1/projects")[1]
    assert [p["metadata"]["name"] for p in listed["items"]] == [project]
    status, reply = me("POST", "/apis/project.openshift.io/v1/projectrequests",
                       {"metadata": {"name": project}})
    assert status == 409
    assert reply["message"] == f'project.project.openshift.io "{project}" already exists'
    assert me("DELETE", f"/apis/project.openshift.io/v1/projects/{project}")[0] == 200
    Caller(lab, lab.token)("DELETE",
                           f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/"
                           f"{ns}-{sa}-self-provisioner")


def test_without_self_provisioner_a_project_request_is_forbidden(
        lab: Lab, account: tuple[str, str]) -> None:
    ns, sa = account
    status, reply = Caller(lab, lab.token_for(ns, sa))(
        "POST", "/apis/project.openshift.io/v1/projectrequests", {"metadata": {"name": "p"}})
    assert status == 403
    assert reply["message"].startswith(
        "projectrequests.project.openshift.io is forbidden: User")


def test_watch_console_and_exec_are_authorized_like_any_request(
        lab: Lab, account: tuple[str, str], unique_name: Callable[[str], str]) -> None:
    ns, sa = account
    role = unique_name("lister")
    _cluster_role(lab, role, [{"apiGroups": [""], "resources": ["pods"],
                               "verbs": ["list"]}])
    _bind(lab, ns, sa, role)
    me = Caller(lab, lab.token_for(ns, sa))
    user = f"system:serviceaccount:{ns}:{sa}"
    assert me("GET", f"/api/v1/namespaces/{ns}/pods")[0] == 200
    status, reply = me("GET", f"/api/v1/namespaces/{ns}/pods?watch=true")
    assert status == 403
    assert reply["message"] == (f'pods is forbidden: User "{user}" cannot watch resource '
                                f'"pods" in API group "" in the namespace "{ns}"')
    status, reply = me("GET", f"/apis/subresources.kubevirt.io/v1/namespaces/{ns}/"
                              "virtualmachineinstances/vm1/console")
    assert status == 403
    assert reply["message"] == (
        f'virtualmachineinstances.subresources.kubevirt.io "vm1" is forbidden: User "{user}" '
        'cannot get resource "virtualmachineinstances/console" in API group '
        f'"subresources.kubevirt.io" in the namespace "{ns}"')
    status, reply = me("POST", f"/api/v1/namespaces/{ns}/pods/p1/exec?command=true")
    assert status == 403 and 'cannot create resource "pods/exec"' in reply["message"]
    # A websocket (GET) exec needs `create` too (AuthorizePodWebsocketUpgradeCreatePermission).
    status, reply = me("GET", f"/api/v1/namespaces/{ns}/pods/p1/exec?command=true")
    assert status == 403 and 'cannot create resource "pods/exec"' in reply["message"]


def test_rules_review_lists_what_a_binding_grants(lab: Lab, account: tuple[str, str]) -> None:
    ns, sa = account
    _bind(lab, ns, sa, "view")
    me = Caller(lab, lab.token_for(ns, sa))
    status, reply = me("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
                       {"spec": {"namespace": ns}})
    assert status == 201
    rules = reply["status"]["resourceRules"]
    assert any("virtualmachines" in r["resources"] and "watch" in r["verbs"] for r in rules)
    assert not any("secrets" in r["resources"] for r in rules)
    assert any("/version" in r["nonResourceURLs"] for r in reply["status"]["nonResourceRules"])
    other = me("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
               {"spec": {"namespace": "default"}})[1]["status"]["resourceRules"]
    assert not any("virtualmachines" in r["resources"] for r in other)


def test_the_admin_token_keeps_cluster_admin(lab: Lab) -> None:
    admin = Caller(lab, lab.token)
    status, reply = admin("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                          {"spec": {"resourceAttributes": {"verb": "delete",
                                                           "resource": "nodes"}}})
    assert status == 201 and reply["status"]["allowed"] is True
    assert admin("GET", "/lab/errors")[0] == 200
