"""OpenShift's project API (project.openshift.io/v1): ProjectRequest and Project.

A ProjectRequest creates a Namespace annotated with its requester plus an `admin`
RoleBinding for the requester (the default project template of openshift-apiserver's
projectrequest/delegated REST); Projects are the namespaces a user may see (list asks
the authorizer, per namespace, whether the user may `get` it, as the project cache
does), and deleting one deletes its namespace.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..api.options import read_object
from ..api.responses import method_not_allowed, reply, success_status
from ..errors import already_exists, not_found
from ..store import Store
from .attributes import Attributes
from .authorizer import RbacAuthorizer
from .identity import UserInfo

GROUP = "project.openshift.io"
API_VERSION = f"{GROUP}/v1"


def project_of(namespace: dict[str, Any]) -> dict[str, Any]:
    """The Project view of a Namespace."""
    return {"kind": "Project", "apiVersion": API_VERSION,
            "metadata": namespace.get("metadata", {}),
            "spec": namespace.get("spec", {}), "status": namespace.get("status", {})}


class Projects:
    """The two resources' handlers; routing and RBAC happen before them."""

    def __init__(self, store: Store, rbac: RbacAuthorizer) -> None:
        self.store = store
        self.rbac = rbac

    async def handle(self, request: web.Request, user: UserInfo, plural: str,
                     name: str | None) -> web.Response:
        if plural == "projectrequests":
            if request.method != "POST" or name:
                raise method_not_allowed()
            return await self._request(request, user)
        if name is None:
            if request.method != "GET":
                raise method_not_allowed()
            return self._list(user)
        if request.method == "GET":
            return reply(project_of(self._namespace(name)))
        if request.method == "DELETE":
            self._namespace(name)
            self.store.delete("namespaces", None, name)
            return reply(success_status({"name": name, "group": GROUP, "kind": "projects"}))
        raise method_not_allowed()

    def _namespace(self, name: str) -> dict[str, Any]:
        found = self.store.try_get("namespaces", None, name)
        if found is None:
            raise not_found("projects", name, GROUP)
        return found

    def _list(self, user: UserInfo) -> web.Response:
        namespaces, rv = self.store.list("namespaces")
        visible = [project_of(ns) for ns in namespaces
                   if self.rbac.decide(Attributes(user, "get", True, ns["metadata"]["name"],
                                                  "", "namespaces", "",
                                                  ns["metadata"]["name"]))[0]]
        return reply({"kind": "ProjectList", "apiVersion": API_VERSION,
                      "metadata": {"resourceVersion": rv}, "items": visible})

    async def _request(self, request: web.Request, user: UserInfo) -> web.Response:
        body = await read_object(request)
        name = (body.get("metadata") or {}).get("name", "")
        if self.store.try_get("namespaces", None, name) is not None:
            raise already_exists("project", name, GROUP)
        annotations = {"openshift.io/requester": user.name,
                       "openshift.io/display-name": body.get("displayName", ""),
                       "openshift.io/description": body.get("description", "")}
        created = self.store.create("namespaces", {
            "metadata": {"name": name, "annotations": annotations},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}},
            admit=True)
        self.store.create("rolebindings.rbac.authorization.k8s.io", {
            "metadata": {"name": "admin", "namespace": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                          "name": user.name}]})
        return reply(project_of(created), 201)
