"""Which field selectors each resource accepts, as the real registries declare them.

A real server refuses any other field with 400 `field label not supported`, so a
selector that works here also works on a cluster.
"""

from __future__ import annotations

from ..errors import bad_request
from ..resources import ResourceType
from ..selectors import split_terms

_COMMON = frozenset({"metadata.name", "metadata.namespace"})
_EXTRA: dict[tuple[str, str], frozenset[str]] = {
    ("", "pods"): frozenset({"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                             "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
                             "status.podIP", "status.podIPs", "status.nominatedNodeName"}),
    ("", "events"): frozenset({
        "involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
        "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
        "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"}),
    ("", "secrets"): frozenset({"type"}),
    ("", "namespaces"): frozenset({"status.phase"}),
    ("", "nodes"): frozenset({"spec.unschedulable"}),
    ("", "persistentvolumes"): frozenset({"spec.claimRef.name", "spec.claimRef.namespace"}),
    ("", "persistentvolumeclaims"): frozenset(),
}


def check_field_selector(resource: ResourceType, selector: str | None) -> None:
    """Raise 400 for a field the resource's registry would not index."""
    if not selector:
        return
    allowed = _COMMON | _EXTRA.get(resource.key, frozenset())
    for term in split_terms(selector):
        field = term.split("!=")[0].split("=")[0].strip()
        if field not in allowed:
            raise bad_request(f"field label not supported: {field}")
