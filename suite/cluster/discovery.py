"""What the cluster declares about its storage, gathered once per run as facts.

Facts are evidence, not verdicts: the matrix shows them beside what the checks
observed. Secret references in StorageClass parameters are redacted, because reports
get shared.
"""

from __future__ import annotations

import re
from typing import Any

from suite.cluster.declared import derive as derive_declarations
from suite.cluster.errors import KubeError, NotFound
from suite.cluster.kube import Kube
from suite.config.errors import ConfigError

ANN_DEFAULT = "storageclass.kubernetes.io/is-default-class"
ANN_DEFAULT_VIRT = "storageclass.kubevirt.io/is-default-virt-class"
ANN_MIN_SIZE = "cdi.kubevirt.io/minimumSupportedPvcSize"
LABEL_KV_SCHEDULABLE = "kubevirt.io/schedulable"
EXPAND_DISKS_GA = (1, 9)
# Provisioners whose classes cannot hold a VM disk (Red Hat's storage checkup skips them
# too): static local volumes and object-bucket claims.
NOT_FOR_DISKS = {
    "kubernetes.io/no-provisioner": "static local volumes only (no dynamic provisioning)",
    "openshift-storage.noobaa.io/obc": "an object-bucket class (ObjectBucketClaims, "
                                       "not block or file volumes)",
    "openshift-storage.ceph.rook.io/bucket": "an object-bucket class (ObjectBucketClaims, "
                                             "not block or file volumes)",
}
_BUCKET_SUFFIXES = (".noobaa.io/obc", ".ceph.rook.io/bucket", "objectbucket.io/obc")
_SECRET_KEY = re.compile(r"secret|password|passphrase|token|credential", re.IGNORECASE)
REQUIRED_GROUPS = {
    "kubevirt.io/v1": "KubeVirt",
    "cdi.kubevirt.io/v1beta1": "CDI (containerized-data-importer)",
}

Obj = dict[str, Any]


def require_virtualization(kube: Kube) -> None:
    """A cluster without KubeVirt or CDI cannot run a VM check: say which API is missing."""
    for group_version, product in REQUIRED_GROUPS.items():
        try:
            kube.transport.request("GET", f"/apis/{group_version}")
        except NotFound:
            raise ConfigError(f"the cluster has no {product}: API group {group_version} "
                              "is not served") from None


def _items(kube: Kube, api_version: str, kind: str) -> list[Obj]:
    """Objects of a kind, or none when the cluster does not serve it (optional APIs)."""
    try:
        return kube.list(api_version, kind)
    except NotFound:
        return []
    except KubeError as exc:
        if exc.status == 403:
            return []
        raise


def redact(parameters: dict[str, str]) -> dict[str, str]:
    return {k: ("<redacted>" if _SECRET_KEY.search(k) else v) for k, v in parameters.items()}


def _true(value: Any) -> bool:
    return str(value).lower() == "true"


def virtualization_facts(kube: Kube) -> Obj:
    """KubeVirt / CDI versions and feature gates (from their CRs), and the nodes VMs
    can run on (live migration needs two)."""
    kubevirt = next(iter(_items(kube, "kubevirt.io/v1", "KubeVirt")), {})
    cdi = next(iter(_items(kube, "cdi.kubevirt.io/v1beta1", "CDI")), {})
    kv_conf = (kubevirt.get("spec") or {}).get("configuration") or {}
    version = (kubevirt.get("status") or {}).get("observedKubeVirtVersion", "")
    gates = sorted((kv_conf.get("developerConfiguration") or {}).get("featureGates") or [])
    return {
        "kubevirtVersion": version,
        "cdiVersion": (cdi.get("status") or {}).get("observedVersion", ""),
        "kubevirtFeatureGates": gates,
        "cdiFeatureGates": sorted(((cdi.get("spec") or {}).get("config") or {})
                                  .get("featureGates") or []),
        "expandDisks": expand_disks_enabled(gates, version, bool(kubevirt)) if kubevirt
        else _hco_expand_disks(kube),
        "schedulableNodes": schedulable_nodes(_items(kube, "v1", "Node")),
    }


def _version(text: str) -> tuple[int, int] | None:
    found = re.match(r"v?(\d+)\.(\d+)", text or "")
    return (int(found.group(1)), int(found.group(2))) if found else None


def expand_disks_enabled(gates: list[str], version: str, seen: bool) -> bool | None:
    """Whether KubeVirt grows a running VM's disks: the `ExpandDisks` gate, GA (always on)
    from KubeVirt 1.9. None when the KubeVirt CR could not be read (unknown)."""
    if not seen:
        return None
    parsed = _version(version)
    return "ExpandDisks" in gates or (parsed is not None and parsed >= EXPAND_DISKS_GA)


def _hco_expand_disks(kube: Kube) -> bool | None:
    """Without read access to the KubeVirt CR: OpenShift Virtualization's HyperConverged
    operator always puts ExpandDisks in the KubeVirt CR it manages (its hard-coded gate
    list in hyperconverged-cluster-operator `controllers/operands/kubevirt.go`)."""
    return True if _items(kube, "hco.kubevirt.io/v1beta1", "HyperConverged") else None


def schedulable_nodes(nodes: list[Obj]) -> list[str]:
    """Nodes a VM can be placed on: Ready, not cordoned, not tainted NoSchedule /
    NoExecute, and (where virt-handler labels nodes) `kubevirt.io/schedulable=true`."""
    labelled = any(LABEL_KV_SCHEDULABLE in ((n.get("metadata") or {}).get("labels") or {})
                   for n in nodes)
    names = []
    for node in nodes:
        labels = (node.get("metadata") or {}).get("labels") or {}
        spec, status = node.get("spec") or {}, node.get("status") or {}
        ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                    for c in status.get("conditions") or [])
        tainted = any(t.get("effect") in ("NoSchedule", "NoExecute")
                      for t in spec.get("taints") or [])
        if labelled and labels.get(LABEL_KV_SCHEDULABLE) != "true":
            continue
        if ready and not spec.get("unschedulable") and not tainted:
            names.append(node["metadata"]["name"])
    return sorted(names)


def cluster_facts(kube: Kube, version: Obj, virt: Obj) -> Obj:
    """The matrix's ``run.cluster`` block."""
    return {
        "server": kube.api_client.configuration.host,
        "kubernetesVersion": str(version.get("gitVersion", "")),
        "kubevirtVersion": virt["kubevirtVersion"],
        "cdiVersion": virt["cdiVersion"],
    }


def _csinode_limits(csinodes: list[Obj], driver: str) -> dict[str, int | None]:
    limits: dict[str, int | None] = {}
    for node in csinodes:
        for entry in (node.get("spec") or {}).get("drivers") or []:
            if entry.get("name") == driver:
                count = (entry.get("allocatable") or {}).get("count")
                limits[node["metadata"]["name"]] = count
    return limits


def _storage_profile(profiles: dict[str, Obj], name: str) -> Obj | None:
    profile = profiles.get(name)
    if profile is None:
        return None
    status = profile.get("status") or {}
    annotations = (profile.get("metadata") or {}).get("annotations") or {}
    return {
        "claimPropertySets": status.get("claimPropertySets") or [],
        "cloneStrategy": status.get("cloneStrategy"),
        "snapshotClass": status.get("snapshotClass"),
        "dataImportCronSourceFormat": status.get("dataImportCronSourceFormat"),
        "minimumSupportedPvcSize": annotations.get(ANN_MIN_SIZE),
        "specOverrides": bool((profile.get("spec") or {}).get("claimPropertySets")),
    }


def not_for_disks(provisioner: str) -> str | None:
    """Why a class of this provisioner cannot hold a VM disk, or None when it may."""
    if provisioner in NOT_FOR_DISKS:
        return NOT_FOR_DISKS[provisioner]
    if provisioner.endswith(_BUCKET_SUFFIXES):
        return NOT_FOR_DISKS["openshift-storage.noobaa.io/obc"]
    return None


def class_facts(sc: Obj, csidrivers: dict[str, Obj], csinodes: list[Obj],
                profiles: dict[str, Obj], snapshot_classes: list[Obj], virt: Obj) -> Obj:
    """Everything declared about one StorageClass (a pure function of listed objects)."""
    name = sc["metadata"]["name"]
    provisioner = sc.get("provisioner", "")
    annotations = (sc.get("metadata") or {}).get("annotations") or {}
    driver = csidrivers.get(provisioner)
    facts: Obj = {
        "provisioner": provisioner,
        "notForDisks": not_for_disks(provisioner),
        "volumeBindingMode": sc.get("volumeBindingMode", "Immediate"),
        "allowVolumeExpansion": bool(sc.get("allowVolumeExpansion", False)),
        "reclaimPolicy": sc.get("reclaimPolicy", "Delete"),
        "parameters": redact(sc.get("parameters") or {}),
        "isDefaultClass": _true(annotations.get(ANN_DEFAULT)),
        "isDefaultVirtClass": _true(annotations.get(ANN_DEFAULT_VIRT)),
        "csiDriver": (driver or {}).get("spec") if driver else None,
        "attachLimits": _csinode_limits(csinodes, provisioner),
        "storageProfile": _storage_profile(profiles, name),
        "volumeSnapshotClasses": sorted(v["metadata"]["name"] for v in snapshot_classes
                                        if v.get("driver") == provisioner),
        "virtualization": virt,
    }
    facts["declared"] = derive_declarations(facts).to_json()  # read by checks and reports
    return facts


def discover_classes(kube: Kube, virt: Obj) -> dict[str, Obj]:
    """Facts for every StorageClass, by name (sorted)."""
    classes = _items(kube, "storage.k8s.io/v1", "StorageClass")
    csidrivers = {d["metadata"]["name"]: d for d in _items(kube, "storage.k8s.io/v1", "CSIDriver")}
    csinodes = _items(kube, "storage.k8s.io/v1", "CSINode")
    profiles = {p["metadata"]["name"]: p
                for p in _items(kube, "cdi.kubevirt.io/v1beta1", "StorageProfile")}
    snapshot_classes = _items(kube, "snapshot.storage.k8s.io/v1", "VolumeSnapshotClass")
    facts = {sc["metadata"]["name"]: class_facts(sc, csidrivers, csinodes, profiles,
                                                 snapshot_classes, virt)
             for sc in classes}
    return dict(sorted(facts.items()))
