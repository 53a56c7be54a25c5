"""The lab's catalogue of resource types: what discovery lists and what the store keys on.

One entry per (group, plural). The catalogue is data so that discovery, routing,
validation and the store all agree on names, kinds and scopes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

STANDARD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    """One served resource, e.g. kubevirt.io/v1 virtualmachines."""

    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = STANDARD_VERBS
    categories: tuple[str, ...] = ()
    list_kind: str = field(default="")

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> tuple[str, str]:
        return (self.group, self.plural)

    @property
    def list_kind_name(self) -> str:
        return self.list_kind or f"{self.kind}List"

    @property
    def group_version(self) -> str:
        return self.api_version

    def has_status(self) -> bool:
        return "status" in self.subresources


def _r(group: str, version: str, plural: str, kind: str, namespaced: bool = True,
       short: Iterable[str] = (), sub: Iterable[str] = ("status",),
       verbs: tuple[str, ...] = STANDARD_VERBS, categories: Iterable[str] = ()) -> ResourceType:
    return ResourceType(group, version, plural, kind.lower(), kind, namespaced,
                        tuple(short), tuple(sub), verbs, tuple(categories))


KV = "kubevirt.io"
CDI = "cdi.kubevirt.io"
SNAP = "snapshot.storage.k8s.io"
VMSNAP = "snapshot.kubevirt.io"

DEFAULT_RESOURCES: tuple[ResourceType, ...] = (
    _r("", "v1", "namespaces", "Namespace", False, ["ns"], ["status", "finalize"]),
    _r("", "v1", "nodes", "Node", False, ["no"]),
    _r("", "v1", "pods", "Pod", True, ["po"], ["status", "exec", "log"], categories=["all"]),
    _r("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ["pvc"]),
    _r("", "v1", "persistentvolumes", "PersistentVolume", False, ["pv"]),
    _r("", "v1", "events", "Event", True, ["ev"], []),
    _r("", "v1", "secrets", "Secret", True, [], []),
    _r("", "v1", "configmaps", "ConfigMap", True, ["cm"], []),
    _r("", "v1", "serviceaccounts", "ServiceAccount", True, ["sa"], []),
    _r("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, ["sc"], []),
    _r("storage.k8s.io", "v1", "csidrivers", "CSIDriver", False, [], []),
    _r("storage.k8s.io", "v1", "csinodes", "CSINode", False, [], []),
    _r("storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", False),
    _r(SNAP, "v1", "volumesnapshots", "VolumeSnapshot", True, ["vs"]),
    _r(SNAP, "v1", "volumesnapshotcontents", "VolumeSnapshotContent", False, ["vsc", "vscs"]),
    _r(SNAP, "v1", "volumesnapshotclasses", "VolumeSnapshotClass", False,
       ["vsclass", "vsclasses"], []),
    _r(KV, "v1", "virtualmachines", "VirtualMachine", True, ["vm", "vms"], categories=["all"]),
    _r(KV, "v1", "virtualmachineinstances", "VirtualMachineInstance", True,
       ["vmi", "vmis"], categories=["all"]),
    _r(KV, "v1", "virtualmachineinstancemigrations", "VirtualMachineInstanceMigration", True,
       ["vmim", "vmims"], categories=["all"]),
    _r(KV, "v1", "kubevirts", "KubeVirt", True, ["kv", "kvs"], categories=["all"]),
    _r(CDI, "v1beta1", "datavolumes", "DataVolume", True, ["dv", "dvs"], categories=["all"]),
    _r(CDI, "v1beta1", "storageprofiles", "StorageProfile", False, [], categories=["all"]),
    _r(CDI, "v1beta1", "cdis", "CDI", False, ["cdi", "cdis"], categories=["all"]),
    _r(VMSNAP, "v1beta1", "virtualmachinesnapshots", "VirtualMachineSnapshot", True,
       ["vmsnapshot", "vmsnapshots"], categories=["all"]),
    _r(VMSNAP, "v1beta1", "virtualmachinesnapshotcontents", "VirtualMachineSnapshotContent",
       True, ["vmsnapshotcontent", "vmsnapshotcontents"], categories=["all"]),
    _r(VMSNAP, "v1beta1", "virtualmachinerestores", "VirtualMachineRestore", True,
       ["vmrestore", "vmrestores"], categories=["all"]),
    _r("hco.kubevirt.io", "v1beta1", "hyperconvergeds", "HyperConverged", True, ["hco", "hcos"]),
    _r("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
       False, [], [], verbs=("create",)),
    _r("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
       False, ["crd", "crds"]),
)


class ResourceRegistry:
    """Lookup of resource types by (group, plural), by kind and by any name kubectl accepts."""

    def __init__(self, resources: Iterable[ResourceType] = DEFAULT_RESOURCES) -> None:
        self._by_key: dict[tuple[str, str], ResourceType] = {}
        for resource in resources:
            self.add(resource)

    def add(self, resource: ResourceType) -> None:
        self._by_key[resource.key] = resource

    def __iter__(self) -> Iterator[ResourceType]:
        return iter(self._by_key.values())

    def get(self, group: str, plural: str) -> ResourceType | None:
        return self._by_key.get((group, plural))

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        for resource in self._by_key.values():
            if resource.kind == kind and resource.api_version == api_version:
                return resource
        return None

    def resolve(self, ref: str | ResourceType) -> ResourceType:
        """Accept a ResourceType, 'plural', 'plural.group' or 'group/plural'."""
        if isinstance(ref, ResourceType):
            return ref
        if "/" in ref:
            group, plural = ref.split("/", 1)
        elif "." in ref:
            plural, group = ref.split(".", 1)
        else:
            plural, group = ref, ""
        resource = self.get(group, plural)
        if resource is None:
            raise KeyError(f"unknown resource {ref!r}")
        return resource

    def groups(self) -> dict[str, list[ResourceType]]:
        """Resources per API group ('' is the core group), in registration order."""
        grouped: dict[str, list[ResourceType]] = {}
        for resource in self._by_key.values():
            grouped.setdefault(resource.group, []).append(resource)
        return grouped
