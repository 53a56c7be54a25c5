"""The ClusterRole aggregation controller (kube-controller-manager's
clusterrole-aggregation): a ClusterRole with an `aggregationRule` gets, as its rules, the
union of the rules of every ClusterRole its selectors match. Like the real controller it
runs after a change, not inside it, so a new `aggregate-to-edit` role reaches `edit` a
moment later; chains (view -> edit -> admin) settle over successive passes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..store import Store
from ..watchbus import WatchEvent
from .rules import selector_matches

CLUSTER_ROLES = "clusterroles.rbac.authorization.k8s.io"


def _union(store: Store, selectors: list[dict[str, Any]], own: str) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    roles, _ = store.list(CLUSTER_ROLES, copies=False)
    for role in roles:
        meta = role.get("metadata") or {}
        if meta.get("name") == own:
            continue
        labels = meta.get("labels") or {}
        if any(selector_matches(s, labels) for s in selectors):
            for rule in role.get("rules") or []:
                if rule not in rules:
                    rules.append(rule)
    return rules


def reconcile(store: Store) -> int:
    """Bring every aggregated ClusterRole up to date; returns how many changed. Loops
    until nothing changes, so a chain of aggregations settles in one call."""
    changed_total = 0
    for _ in range(10):
        changed = 0
        roles, _ = store.list(CLUSTER_ROLES)
        for role in roles:
            selectors = (role.get("aggregationRule") or {}).get("clusterRoleSelectors")
            if not selectors:
                continue
            wanted = _union(store, selectors, role["metadata"]["name"])
            if wanted != (role.get("rules") or []):
                role["rules"] = wanted
                store.update(CLUSTER_ROLES, role)
                changed += 1
        changed_total += changed
        if not changed:
            break
    return changed_total


class AggregationController:
    """Schedules `reconcile` on the loop after any ClusterRole change."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._scheduled = False

    def on_event(self, event: WatchEvent) -> None:
        if event.resource.plural != "clusterroles" or self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a store used without a loop (unit tests): settle now
            return
        self._scheduled = True
        loop.call_soon(self._run)

    def _run(self) -> None:
        self._scheduled = False
        reconcile(self.store)
