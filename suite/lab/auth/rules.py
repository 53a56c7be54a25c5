"""PolicyRule and Subject matching, as Kubernetes RBAC defines them
(pkg/apis/rbac/v1 helpers and plugin/pkg/auth/authorizer/rbac): `*` wildcards for verbs,
groups and resources, `*/sub` for a subresource of any resource, resourceNames that
narrow a rule, and nonResourceURLs with a trailing `*` as a prefix match.
"""

from __future__ import annotations

from typing import Any

from .attributes import Attributes
from .identity import SA_PREFIX, UserInfo

Rule = dict[str, Any]


def _has(values: list[str] | None, wanted: str) -> bool:
    values = values or []
    return "*" in values or wanted in values


def resource_matches(rule: Rule, combined: str, subresource: str) -> bool:
    for allowed in rule.get("resources") or []:
        if allowed in ("*", combined):
            return True
        if subresource and allowed == f"*/{subresource}":
            return True
    return False


def url_matches(rule: Rule, path: str) -> bool:
    for allowed in rule.get("nonResourceURLs") or []:
        if allowed == "*" or allowed == path:
            return True
        if allowed.endswith("*") and path.startswith(allowed[:-1]):
            return True
    return False


def allows(rule: Rule, attrs: Attributes) -> bool:
    """Whether one rule covers the request."""
    if not _has(rule.get("verbs"), attrs.verb):
        return False
    if not attrs.resource_request:
        return url_matches(rule, attrs.path)
    if not _has(rule.get("apiGroups"), attrs.group):
        return False
    if not resource_matches(rule, attrs.combined_resource, attrs.subresource):
        return False
    names = rule.get("resourceNames") or []
    return not names or attrs.name in names


def subject_matches(subject: dict[str, Any], user: UserInfo, binding_ns: str) -> bool:
    """Whether a binding's subject is this user (User, Group or ServiceAccount)."""
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind == "User":
        return bool(name) and name == user.name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_ns
        return user.name == f"{SA_PREFIX}{namespace}:{name}"
    return False


def selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A metav1.LabelSelector (matchLabels and matchExpressions) against labels."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return bool(selector.get("matchLabels") or selector.get("matchExpressions"))
