"""The preflight: before a run creates anything, ask the API server (with
SelfSubjectAccessReviews) for every permission the selected families need.

Missing required permissions are reported together in one message (verb, resource,
group, scope and the families that need them) and the run stops having created nothing.
Missing optional ones (node checks) only turn those cells `inconclusive`. The preflight
also decides how the run gets its namespace: one the user named (`--namespace`), one it
creates, or, where Namespaces may not be created but projects may (OpenShift), one it
requests through a ProjectRequest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from suite.cluster.errors import KubeError, NotFound
from suite.cluster.permissions import CLUSTER, LIFECYCLE, NAMESPACE, PERMISSIONS, Permission
from suite.cluster.transport import Transport

REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
PROJECT_GROUP = "project.openshift.io"
EXISTING, CREATE, PROJECT = "existing", "create", "project"


@dataclass(frozen=True)
class Denial:
    """One verb on one resource that the user may not use."""

    verb: str
    permission: Permission
    namespace: str

    def line(self) -> str:
        where = (f'in namespace "{self.namespace}"' if self.permission.scope == NAMESPACE
                 else "at cluster scope")
        group = self.permission.group or '"" (core)'
        return (f"  - {self.verb} {self.permission.resource} (API group {group}) {where}; "
                f"needed by: {', '.join(self.permission.needed_by)}")


@dataclass
class Preflight:
    """What the preflight found: the namespace mode and the denials."""

    namespace_mode: str
    missing: list[Denial] = field(default_factory=list)
    optional_missing: list[Denial] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing

    def message(self) -> str:
        lines = [f"missing permissions: {len(self.missing)} required by the selected "
                 "families (grant them, e.g. kubectl apply -f deploy/rbac.yaml, or drop "
                 "the families from the profile):"]
        lines += [d.line() for d in self.missing]
        return "\n".join(lines)

    def optional_reason(self) -> str | None:
        """Why node checks cannot run, or None when they can."""
        if not self.optional_missing:
            return None
        first = self.optional_missing[0]
        named = ", ".join(sorted({f"{d.verb} {d.permission.qualified}"
                                  for d in self.optional_missing}))
        return (f"the node check needs permissions this user lacks ({named}"
                f"{' in namespace ' + first.namespace if first.namespace else ''}); "
                "grant them (deploy/rbac.yaml) to check encryption from the node")


def allowed(transport: Transport, verb: str, group: str, resource: str,
            namespace: str = "") -> bool:
    """One SelfSubjectAccessReview."""
    plural, _, sub = resource.partition("/")
    attributes: dict[str, Any] = {"verb": verb, "group": group, "resource": plural}
    if sub:
        attributes["subresource"] = sub
    if namespace:
        attributes["namespace"] = namespace
    review = transport.request("POST", REVIEWS, body={
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attributes}}) or {}
    return bool((review.get("status") or {}).get("allowed"))


def _denials(transport: Transport, rows: list[Permission], namespace: str) -> list[Denial]:
    out = []
    for row in rows:
        ns = namespace if row.scope == NAMESPACE else ""
        out += [Denial(verb, row, ns) for verb in row.verbs
                if not allowed(transport, verb, row.group, row.resource, ns)]
    return out


def namespace_mode(transport: Transport, existing: str | None) -> str:
    """EXISTING with --namespace; else CREATE where Namespaces may be created, PROJECT
    where only ProjectRequests may, CREATE again when neither (its denial is listed)."""
    if existing:
        return EXISTING
    if allowed(transport, "create", "", "namespaces"):
        return CREATE
    if allowed(transport, "create", PROJECT_GROUP, "projectrequests"):
        return PROJECT
    return CREATE


def check_namespace_rows(transport: Transport, families: list[str],
                         namespace: str) -> tuple[list[Denial], list[Denial]]:
    """(required, optional) denials of the namespaced rows in `namespace`."""
    rows = [p for p in PERMISSIONS if p.scope == NAMESPACE and p.wanted_by(families)]
    denied = _denials(transport, rows, namespace)
    return ([d for d in denied if not d.permission.optional],
            [d for d in denied if d.permission.optional])


def run_preflight(transport: Transport, families: list[str], namespace: str,
                  existing: str | None = None, node_checks: bool = True) -> Preflight:
    """Check every permission the families need; nothing is created here.

    In PROJECT mode the namespaced rows cannot be asked about yet (the project does not
    exist; its requester becomes its admin): `check_namespace_rows` runs after it is made.
    """
    mode = namespace_mode(transport, existing)
    scopes = {CLUSTER} | ({LIFECYCLE} if mode == CREATE else set())
    if mode != PROJECT:
        scopes.add(NAMESPACE)
    rows = [p for p in PERMISSIONS if p.scope in scopes and p.wanted_by(families)
            and (node_checks or not p.optional)]
    denied = _denials(transport, rows, existing or namespace)
    return Preflight(mode, [d for d in denied if not d.permission.optional],
                     [d for d in denied if d.permission.optional])


def existing_namespace_problem(transport: Transport, name: str) -> str | None:
    """Why `--namespace NAME` cannot be used (it does not exist or is unreadable)."""
    try:
        transport.request("GET", f"/api/v1/namespaces/{name}")
    except NotFound:
        return f"namespace {name} (--namespace) does not exist; create it first"
    except KubeError as exc:
        if exc.status != 403:
            raise
        # A tenant may use a namespace without being allowed to read its object.
    return None
