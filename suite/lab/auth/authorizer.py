"""RBAC authorization of every request, with the apiserver's 403 wording.

Evaluation walks ClusterRoleBindings, then the RoleBindings of the request's namespace,
exactly as the RBAC authorizer does. To stay fast the rules one subject holds are
compiled once per subject and per RBAC generation (a counter bumped by every change to
a Role, ClusterRole or binding), so a run's thousands of requests cost a dict lookup and
a short scan. `system:masters` is allowed without a lookup, like the apiserver's
privileged-group authorizer that runs before RBAC.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from ..errors import ApiError
from ..store import Store
from ..watchbus import WatchEvent
from .attributes import Attributes
from .identity import UserInfo
from .rules import Rule, allows, subject_matches

RBAC_GROUP = "rbac.authorization.k8s.io"
RBAC_PLURALS = frozenset({"roles", "clusterroles", "rolebindings", "clusterrolebindings"})
_CACHE_SIZE = 256
_DECISIONS = 8192


@dataclass
class Grant:
    """Rules a subject holds through one binding (kept to explain an allow)."""

    rules: list[Rule]
    binding: str
    role: str
    subject: str


@dataclass
class SubjectRules:
    """Everything one subject may do: cluster-wide and per namespace."""

    cluster: list[Grant] = field(default_factory=list)
    namespaced: dict[str, list[Grant]] = field(default_factory=dict)

    def grants(self, namespace: str) -> list[Grant]:
        return self.cluster + (self.namespaced.get(namespace, []) if namespace else [])


def forbidden_message(attrs: Attributes) -> str:
    """responsewriters.forbiddenMessage plus errors.NewForbidden's prefix."""
    user = attrs.user.name
    if not attrs.resource_request:
        return f'forbidden: User "{user}" cannot {attrs.verb} path "{attrs.path}"'
    what = (f'User "{user}" cannot {attrs.verb} resource "{attrs.combined_resource}" '
            f'in API group "{attrs.group}"')
    what += (f' in the namespace "{attrs.namespace}"' if attrs.namespace
             else " at the cluster scope")
    qualified = f"{attrs.resource}.{attrs.group}" if attrs.group else attrs.resource
    prefix = f'{qualified} "{attrs.name}"' if attrs.name else qualified
    return f"{prefix} is forbidden: {what}"


def forbidden(attrs: Attributes) -> ApiError:
    details: dict[str, Any] = {}
    if attrs.resource_request:
        details = {"kind": attrs.resource}
        if attrs.name:
            details["name"] = attrs.name
        if attrs.group:
            details["group"] = attrs.group
    return ApiError(403, "Forbidden", forbidden_message(attrs), details)


class RbacAuthorizer:
    """Answers `may this user do this?` from the RBAC objects in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.generation = 0
        self._cache: OrderedDict[tuple[Any, ...], SubjectRules] = OrderedDict()
        # Decisions per (generation, request attributes): a run asks the same few
        # hundred questions thousands of times.
        self._decisions: dict[tuple[int, Attributes], tuple[bool, str]] = {}

    def on_event(self, event: WatchEvent) -> None:
        """Store listener: any RBAC change invalidates every compiled subject."""
        if event.resource.group == RBAC_GROUP and event.resource.plural in RBAC_PLURALS:
            self.generation += 1
            self._decisions.clear()

    # ----------------------------------------------------------- decisions
    def decide(self, attrs: Attributes) -> tuple[bool, str]:
        """(allowed, reason) with the RBAC authorizer's reason text for an allow."""
        if attrs.user.is_master:
            return True, ""
        key = (self.generation, attrs)
        found = self._decisions.get(key)
        if found is None:
            found = self._decide(attrs)
            if len(self._decisions) >= _DECISIONS:
                self._decisions.clear()
            self._decisions[key] = found
        return found

    def _decide(self, attrs: Attributes) -> tuple[bool, str]:
        for grant in self.rules_for(attrs.user).grants(attrs.namespace):
            if any(allows(rule, attrs) for rule in grant.rules):
                return True, (f"RBAC: allowed by {grant.binding} of {grant.role} "
                              f"to {grant.subject}")
        return False, ""

    def authorize(self, attrs: Attributes) -> None:
        allowed, _ = self.decide(attrs)
        if not allowed:
            raise forbidden(attrs)

    # ------------------------------------------------------------ compiling
    def rules_for(self, user: UserInfo) -> SubjectRules:
        key = (self.generation, user.key)
        found = self._cache.get(key)
        if found is None:
            found = self._compile(user)
            self._cache[key] = found
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return found

    def _role_rules(self, kind: str, namespace: str, name: str) -> list[Rule]:
        """The role's rules, read without a copy (compiled rules are never changed)."""
        plural = {"ClusterRole": "clusterroles", "Role": "roles"}.get(kind)
        if plural is None:
            return []
        try:
            role = self.store.get(f"{plural}.{RBAC_GROUP}",
                                  namespace if kind == "Role" else None, name, copies=False)
        except ApiError:
            return []
        return list(role.get("rules") or [])

    def _compile(self, user: UserInfo) -> SubjectRules:
        out = SubjectRules()
        for plural in ("clusterrolebindings", "rolebindings"):
            bindings, _ = self.store.list(f"{plural}.{RBAC_GROUP}", copies=False)
            for binding in bindings:
                self._add_binding(out, user, binding, plural == "clusterrolebindings")
        return out

    def _add_binding(self, out: SubjectRules, user: UserInfo, binding: dict[str, Any],
                     cluster: bool) -> None:
        meta = binding.get("metadata") or {}
        namespace = "" if cluster else meta.get("namespace", "")
        subject = next((s for s in binding.get("subjects") or []
                        if subject_matches(s, user, namespace)), None)
        if subject is None:
            return
        ref = binding.get("roleRef") or {}
        if cluster and ref.get("kind") != "ClusterRole":
            return
        rules = self._role_rules(ref.get("kind", ""), namespace, ref.get("name", ""))
        kind = "ClusterRoleBinding" if cluster else "RoleBinding"
        where = "" if cluster else f' in namespace "{namespace}"'
        shown = subject.get("name", "")
        if subject.get("kind") == "ServiceAccount":
            shown = f'{subject.get("namespace") or namespace}/{shown}'
        grant = Grant(rules, f'{kind} "{meta.get("name", "")}"{where}',
                      f'{ref.get("kind")} "{ref.get("name")}"',
                      f'{subject.get("kind")} "{shown}"')
        if cluster:
            out.cluster.append(grant)
        else:
            out.namespaced.setdefault(namespace, []).append(grant)
