"""CustomResourceDefinition objects for the lab's custom groups, as a cluster lists them.

Tools (and the suite's discovery) look at CRDs to learn which optional APIs a cluster
has; the lab registers one per custom resource so that `kubectl get crd` looks like an
OpenShift cluster with OpenShift Virtualization installed.
"""

from __future__ import annotations

from typing import Any

from ..resources import ResourceRegistry, ResourceType
from .objects import BUILTIN_GROUPS
from .printing import columns_for, priority

_PRESERVE = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def custom_resources(registry: ResourceRegistry) -> list[ResourceType]:
    return [r for r in registry if r.group not in BUILTIN_GROUPS]


def _names(resource: ResourceType) -> dict[str, Any]:
    names: dict[str, Any] = {"plural": resource.plural, "singular": resource.singular,
                             "kind": resource.kind, "listKind": resource.list_kind_name}
    if resource.short_names:
        names["shortNames"] = list(resource.short_names)
    if resource.categories:
        names["categories"] = list(resource.categories)
    return names


def _version(resource: ResourceType, schema: dict[str, Any] | None) -> dict[str, Any]:
    version: dict[str, Any] = {"name": resource.version, "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": schema or _PRESERVE}}
    if resource.has_status():
        version["subresources"] = {"status": {}}
    columns = [{"name": header, "type": kind, "jsonPath": path,
                "priority": priority(resource.group, resource.plural, header)}
               for header, kind, path in columns_for(resource.group, resource.plural)]
    version["additionalPrinterColumns"] = columns
    return version


def crd_for(resource: ResourceType, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    names = _names(resource)
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{resource.plural}.{resource.group}"},
        "spec": {"group": resource.group, "names": names,
                 "scope": "Namespaced" if resource.namespaced else "Cluster",
                 "versions": [_version(resource, schema)]},
        "status": {"acceptedNames": names, "storedVersions": [resource.version],
                   "conditions": [
                       {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                        "message": "no conflicts found"},
                       {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                        "message": "the initial names have been accepted"}]},
    }
