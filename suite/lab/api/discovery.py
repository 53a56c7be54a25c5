"""Discovery documents: /version, /api, /apis and the per group/version resource lists.

Served as the legacy (unaggregated) documents: kubectl asks for aggregated discovery
first and falls back to these when the reply is plain `application/json`, exactly as it
does against servers older than 1.26.
"""

from __future__ import annotations

from typing import Any

from ..context import HttpSeam
from ..resources import ResourceRegistry, ResourceType

KUBERNETES_VERSION = {
    "major": "1", "minor": "31", "gitVersion": "v1.31.6",
    "gitCommit": "6ec4b0bb6ebe7a6b3d7e2b4e6b5ad6a4f46e2b3c", "gitTreeState": "clean",
    "buildDate": "2025-02-12T14:40:51Z", "goVersion": "go1.22.12", "compiler": "gc",
    "platform": "linux/amd64",
}

# Verbs of well-known subresources; anything a component adds gets the generic set.
_SUB_VERBS = {
    "status": ["get", "patch", "update"],
    "finalize": ["update"],
    "log": ["get"],
    "exec": ["create", "get"],
}
_GENERIC_SUB_VERBS = ["get", "update", "create"]


def version() -> dict[str, str]:
    return dict(KUBERNETES_VERSION)


def core_versions(server_address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                            "serverAddress": server_address}]}


def _group_entry(group: str, version: str) -> dict[str, Any]:
    gv = {"groupVersion": f"{group}/{version}", "version": version}
    return {"name": group, "versions": [gv], "preferredVersion": gv}


def group_list(registry: ResourceRegistry, http: HttpSeam) -> dict[str, Any]:
    seen: dict[str, dict[str, Any]] = {}
    for resource in registry:
        if resource.group and resource.group not in seen:
            seen[resource.group] = _group_entry(resource.group, resource.version)
    for extra in http.extra_groups.values():
        entry = seen.setdefault(extra["group"], _group_entry(extra["group"], extra["version"]))
        gv = {"groupVersion": f"{extra['group']}/{extra['version']}",
              "version": extra["version"]}
        if gv not in entry["versions"]:
            entry["versions"].append(gv)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": list(seen.values())}


def group(registry: ResourceRegistry, http: HttpSeam, name: str) -> dict[str, Any] | None:
    for entry in group_list(registry, http)["groups"]:
        if entry["name"] == name:
            return {"kind": "APIGroup", "apiVersion": "v1", **entry}
    return None


def _resource_entry(resource: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": resource.plural, "singularName": resource.singular,
        "namespaced": resource.namespaced, "kind": resource.kind,
        "verbs": list(resource.verbs),
    }
    if resource.short_names:
        entry["shortNames"] = list(resource.short_names)
    if resource.categories:
        entry["categories"] = list(resource.categories)
    return entry


def _sub_entry(resource: ResourceType, sub: str) -> dict[str, Any]:
    return {"name": f"{resource.plural}/{sub}", "singularName": "",
            "namespaced": resource.namespaced, "kind": resource.kind,
            "verbs": _SUB_VERBS.get(sub, _GENERIC_SUB_VERBS)}


def _resources_of(registry: ResourceRegistry, http: HttpSeam, group_name: str,
                  version_name: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for resource in registry:
        if resource.group != group_name or resource.version != version_name:
            continue
        out.append(_resource_entry(resource))
        subs = list(resource.subresources)
        subs += [key[3] for key in http.handlers
                 if key[:3] == (group_name, version_name, resource.plural) and key[3] not in subs]
        out.extend(_sub_entry(resource, sub) for sub in subs)
    return out


def resource_list(registry: ResourceRegistry, http: HttpSeam, group_name: str,
                  version_name: str) -> dict[str, Any] | None:
    """The APIResourceList of one group/version, or None when it is not served."""
    resources = _resources_of(registry, http, group_name, version_name)
    extra = http.extra_groups.get(f"{group_name}/{version_name}")
    if extra:
        known = {r["name"] for r in resources}
        resources += [r for r in extra["resources"] if r.get("name") not in known]
    if not resources:
        return None
    gv = f"{group_name}/{version_name}" if group_name else version_name
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": resources}
