"""Identity and RBAC for the lab's API server (see docs/rbac.md).

`Auth` is the one object the API server holds: it registers the RBAC, review, token
and project resource types, seeds the default roles, authenticates each request
(`TokenAuthority`), authorizes it (`RbacAuthorizer`) and serves the endpoints clients
call directly (TokenRequest, access and rules reviews, ProjectRequest and Projects).
"""

from __future__ import annotations

from aiohttp import web

from ..errors import ApiError, bad_request, unauthorized
from ..resources import ResourceType
from ..store import Store
from .aggregation import AggregationController, reconcile
from .attributes import Attributes, from_request
from .authorizer import RbacAuthorizer, forbidden_message
from .endpoints import AuthEndpoints
from .identity import ADMIN, ANONYMOUS, TokenAuthority, UserInfo, service_account_user
from .policy import default_bindings, default_cluster_roles
from .projects import Projects

__all__ = ["ADMIN", "Attributes", "Auth", "UserInfo", "forbidden_message",
           "service_account_user"]

RBAC = "rbac.authorization.k8s.io"
AUTHZ = "authorization.k8s.io"
_CREATE = ("create",)
RESOURCE_TYPES = (
    ResourceType(RBAC, "v1", "roles", "role", "Role", True),
    ResourceType(RBAC, "v1", "rolebindings", "rolebinding", "RoleBinding", True),
    ResourceType(RBAC, "v1", "clusterroles", "clusterrole", "ClusterRole", False),
    ResourceType(RBAC, "v1", "clusterrolebindings", "clusterrolebinding",
                 "ClusterRoleBinding", False),
    ResourceType(AUTHZ, "v1", "selfsubjectrulesreviews", "selfsubjectrulesreview",
                 "SelfSubjectRulesReview", False, verbs=_CREATE),
    ResourceType("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", True,
                 ("sa",), ("token",)),
    ResourceType("project.openshift.io", "v1", "projects", "project", "Project", False,
                 verbs=("delete", "get", "list", "watch")),
    ResourceType("project.openshift.io", "v1", "projectrequests", "projectrequest",
                 "ProjectRequest", False, verbs=("create", "list")),
)
# Probes a real server answers to anyone (system:public-info-viewer).
ANONYMOUS_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/version"})


class Auth:
    """Authentication, authorization and their endpoints for one lab."""

    def __init__(self, store: Store, admin_token: str) -> None:
        self.store = store
        for resource in RESOURCE_TYPES:
            store.registry.add(resource)
        self.tokens = TokenAuthority(admin_token, self._account_uid)
        self.rbac = RbacAuthorizer(store)
        self.aggregation = AggregationController(store)
        store.listeners.append(self.rbac.on_event)
        store.listeners.append(self.aggregation.on_event)
        self.endpoints = AuthEndpoints(store, self.tokens, self.rbac)
        self.projects = Projects(store, self.rbac)
        # What each non-admin user asked for, once per distinct question (`/lab/audit`):
        # tests derive least-privilege roles from it.
        self.audit: set[tuple[str, str, bool, str, str, str, bool]] = set()

    def bootstrap(self) -> None:
        """Seed the default ClusterRoles and bindings, then aggregate them."""
        for role in default_cluster_roles():
            self.store.create(f"clusterroles.{RBAC}", role)
        for binding in default_bindings():
            self.store.create(f"clusterrolebindings.{RBAC}", binding)
        reconcile(self.store)

    def _account_uid(self, namespace: str, name: str) -> str | None:
        try:
            account = self.store.get("serviceaccounts", namespace, name, copies=False)
        except ApiError:
            return None
        return str(account["metadata"]["uid"])

    def issue_token(self, namespace: str, name: str, expiration_s: int = 3600) -> str:
        """A token for an existing ServiceAccount, any lifetime (tests of expiry)."""
        uid = self._account_uid(namespace, name)
        if uid is None:
            raise bad_request(f'serviceaccount "{namespace}/{name}" does not exist')
        return self.tokens.issue(namespace, name, uid, expiration_s)[0]

    # -------------------------------------------------------------- per request
    def check(self, request: web.Request) -> UserInfo:
        """Authenticate and authorize one request; raises 401 or 403 as the server."""
        header = request.headers.get("Authorization", "")
        if not header:
            if request.path in ANONYMOUS_PATHS:
                return ANONYMOUS
            raise unauthorized()
        user = self.tokens.authenticate(header)
        if user.is_master:
            return user
        if request.path.startswith("/lab/"):
            raise ApiError(403, "Forbidden", forbidden_message(
                Attributes(user, request.method.lower(), False, path=request.path)))
        attrs = from_request(user, request)
        self.audit.add((user.name, attrs.verb, attrs.resource_request, attrs.group,
                        attrs.combined_resource, attrs.path if not attrs.resource_request
                        else "", bool(attrs.namespace)))
        self.rbac.authorize(attrs)
        return user

    def audit_report(self) -> list[dict[str, object]]:
        """The audit set as JSON rows, sorted."""
        keys = ("user", "verb", "resourceRequest", "group", "resource", "path", "namespaced")
        return [dict(zip(keys, row, strict=True)) for row in sorted(self.audit)]
