"""What a request asks to do, in the authorizer's terms (the apiserver's RequestInfo).

Verbs follow k8s.io/apiserver's request-info resolver: GET on a collection is `list`,
`?watch=true` is `watch`, DELETE on a collection is `deletecollection`, a field selector
`metadata.name=X` names the object, and a Namespace's (or OpenShift Project's) own
requests are in that namespace.
Paths outside /api and /apis are non-resource requests whose verb is the HTTP method.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ..api import paths
from .identity import UserInfo

# A Namespace's (and, on OpenShift, a Project's) own requests are in that namespace.
_SELF_NAMESPACED = frozenset({("", "namespaces"), ("project.openshift.io", "projects")})
# A websocket GET on these needs `create`, as with the apiserver's
# AuthorizePodWebsocketUpgradeCreatePermission (on by default since Kubernetes 1.31).
_UPGRADES = frozenset({("pods", "exec"), ("pods", "attach"), ("pods", "portforward")})
_METHOD_VERBS = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update",
                 "PATCH": "patch", "DELETE": "delete"}


@dataclass(frozen=True)
class Attributes:
    """One authorization question: may `user` do `verb` on this resource or path?"""

    user: UserInfo
    verb: str
    resource_request: bool
    namespace: str = ""
    group: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""

    @property
    def combined_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def _name_from_field_selector(selector: str) -> str:
    for term in selector.split(","):
        key, _, value = term.partition("=")
        if key.strip() == "metadata.name" and not value.startswith("="):
            return value.strip()
    return ""


def from_request(user: UserInfo, request: web.Request) -> Attributes:
    """The attributes of an HTTP request (anything the router cannot read is a path)."""
    target = paths.parse(request.path)
    if target is None or target.is_group_version or not target.plural:
        return Attributes(user, request.method.lower(), False, path=request.path)
    verb = _METHOD_VERBS.get(request.method, request.method.lower())
    name = target.name or ""
    namespace = target.namespace or ""
    if name and (target.group, target.plural) in _SELF_NAMESPACED:
        namespace = name
    query = request.query
    if verb in ("get", "list") and not name:
        verb = "watch" if query.get("watch") in ("true", "1") else "list"
        name = _name_from_field_selector(query.get("fieldSelector", ""))
    elif verb == "get" and query.get("watch") in ("true", "1"):
        verb = "watch"
    elif verb == "delete" and not name:
        verb = "deletecollection"
    if verb == "get" and target.group == "" and (target.plural, target.subresource) in _UPGRADES:
        verb = "create"
    return Attributes(user, verb, True, namespace, target.group, target.plural,
                      target.subresource or "", name, request.path)
