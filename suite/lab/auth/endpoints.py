"""The authentication and authorization APIs a client calls directly: TokenRequest
(`kubectl create token`), SelfSubjectAccessReview (`kubectl auth can-i`) and
SelfSubjectRulesReview (`kubectl auth can-i --list`).

Shapes and the TokenRequest limits follow k8s.io/api authentication/v1 and
authorization/v1 and the apiserver's validation (expirationSeconds >= 600, default 3600).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ..api.options import read_object
from ..api.responses import method_not_allowed, reply
from ..errors import invalid, not_found
from ..store import Store
from .attributes import Attributes
from .authorizer import RbacAuthorizer
from .identity import TokenAuthority, UserInfo

DEFAULT_EXPIRATION_S = 3600
MIN_EXPIRATION_S = 600
MAX_EXPIRATION_S = 2**32


def _rfc3339(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AuthEndpoints:
    """Handlers wired into the API server's routing."""

    def __init__(self, store: Store, tokens: TokenAuthority, rbac: RbacAuthorizer) -> None:
        self.store = store
        self.tokens = tokens
        self.rbac = rbac

    # ---------------------------------------------------------- TokenRequest
    async def token_request(self, request: web.Request, namespace: str | None,
                            name: str) -> web.StreamResponse:
        if request.method != "POST":
            raise method_not_allowed()
        body = await read_object(request)
        account = self.store.try_get("serviceaccounts", namespace, name)
        if account is None:
            raise not_found("serviceaccounts", name)
        spec = body.get("spec") or {}
        seconds = int(spec.get("expirationSeconds") or DEFAULT_EXPIRATION_S)
        if seconds < MIN_EXPIRATION_S or seconds > MAX_EXPIRATION_S:
            why = ("may not specify a duration less than 10 minutes"
                   if seconds < MIN_EXPIRATION_S else "may not specify a duration larger "
                   "than 2^32 seconds")
            raise invalid("TokenRequest", name, [{
                "reason": "FieldValueInvalid", "field": "spec.expirationSeconds",
                "message": f"Invalid value: {seconds}: {why}"}], "authentication.k8s.io")
        token, exp = self.tokens.issue(namespace or "", name, account["metadata"]["uid"],
                                       seconds, spec.get("audiences"))
        return reply({
            "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": name, "namespace": namespace,
                         "creationTimestamp": None},
            "spec": {"audiences": spec.get("audiences") or [
                "https://kubernetes.default.svc"], "expirationSeconds": seconds,
                "boundObjectRef": spec.get("boundObjectRef")},
            "status": {"token": token, "expirationTimestamp": _rfc3339(exp)}}, 201)

    # ------------------------------------------------- SelfSubjectAccessReview
    async def access_review(self, request: web.Request, user: UserInfo) -> web.Response:
        if request.method != "POST":
            raise method_not_allowed()
        review = await read_object(request)
        spec = review.get("spec") or {}
        if spec.get("nonResourceAttributes"):
            attrs = spec["nonResourceAttributes"]
            question = Attributes(user, attrs.get("verb", ""), False,
                                  path=attrs.get("path", ""))
        else:
            attrs = spec.get("resourceAttributes") or {}
            question = Attributes(user, attrs.get("verb", ""), True,
                                  attrs.get("namespace", ""), attrs.get("group", ""),
                                  attrs.get("resource", ""), attrs.get("subresource", ""),
                                  attrs.get("name", ""))
        allowed, reason = self.rbac.decide(question)
        status: dict[str, Any] = {"allowed": allowed}
        if reason:
            status["reason"] = reason
        review["status"] = status
        review.setdefault("metadata", {})["creationTimestamp"] = None
        return reply(review, 201)

    # -------------------------------------------------- SelfSubjectRulesReview
    async def rules_review(self, request: web.Request, user: UserInfo) -> web.Response:
        if request.method != "POST":
            raise method_not_allowed()
        review = await read_object(request)
        namespace = (review.get("spec") or {}).get("namespace", "")
        resource_rules: list[dict[str, Any]] = []
        url_rules: list[dict[str, Any]] = []
        for grant in self.rbac.rules_for(user).grants(namespace):
            for rule in grant.rules:
                if rule.get("nonResourceURLs"):
                    url_rules.append({"verbs": rule.get("verbs", []),
                                      "nonResourceURLs": rule["nonResourceURLs"]})
                else:
                    out = {"verbs": rule.get("verbs", []),
                           "apiGroups": rule.get("apiGroups", []),
                           "resources": rule.get("resources", [])}
                    if rule.get("resourceNames"):
                        out["resourceNames"] = rule["resourceNames"]
                    resource_rules.append(out)
        review["status"] = {"resourceRules": resource_rules, "nonResourceRules": url_rules,
                            "incomplete": False}
        review.setdefault("metadata", {})["creationTimestamp"] = None
        return reply(review, 201)
