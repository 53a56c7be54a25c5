"""The lab's nodes and the KubeVirt / HyperConverged custom resources.

Discovery reads these the way it would on OpenShift Virtualization: schedulable worker
nodes with KubeVirt's labels (the cluster profile's `schedulableNodes`; the other nodes
are control-plane nodes, tainted NoSchedule as OpenShift's masters are, where virt-handler
does not run), a KubeVirt CR whose feature gates say which storage features are on, and
the HyperConverged CR that owns it. HCO hard-codes its KubeVirt gates, so a profile with
other gates is written the way an admin gets them: HCO's JSON-patch annotation.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..clock import now_rfc3339
from ..clusterprofile import DEFAULT_FEATURE_GATES

if TYPE_CHECKING:
    from ..store import Store

NAMESPACE = "openshift-cnv"
KUBEVIRT_NAME = "kubevirt-kubevirt-hyperconverged"
HCO_NAME = "kubevirt-hyperconverged"
KUBEVIRT_VERSION = "v1.5.2"
CDI_VERSION = "v1.62.0"
HCO_VERSION = "4.19.0"
HCO_JSONPATCH = "kubevirt.kubevirt.io/jsonpatch"
MASTER_TAINT = {"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}


def node_object(name: str, index: int, schedulable: bool = True) -> dict[str, Any]:
    zone = f"lab-zone-{index % 3 + 1}"
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
              "kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
              "beta.kubernetes.io/arch": "amd64",
              "topology.kubernetes.io/region": "lab", "topology.kubernetes.io/zone": zone,
              "node.kubernetes.io/instance-type": "lab.standard"}
    spec: dict[str, Any] = {"podCIDR": f"10.128.{index}.0/24"}
    annotations = {}
    if schedulable:
        labels.update({"node-role.kubernetes.io/worker": "", "kubevirt.io/schedulable": "true",
                       "cpumanager": "false"})
        annotations["kubevirt.io/heartbeat"] = now_rfc3339()
    else:
        labels.update({"node-role.kubernetes.io/master": "",
                       "node-role.kubernetes.io/control-plane": ""})
        spec["taints"] = [dict(MASTER_TAINT)]
    return {
        "metadata": {"name": name, "labels": labels, "annotations": annotations},
        "spec": spec,
        "status": _node_status(name, index),
    }


def _node_status(name: str, index: int) -> dict[str, Any]:
    now = now_rfc3339()
    capacity = {"cpu": "8", "memory": "32Gi", "pods": "250", "ephemeral-storage": "100Gi",
                "devices.kubevirt.io/kvm": "1k", "devices.kubevirt.io/tun": "1k"}
    conditions = [
        {"type": t, "status": "False", "reason": r, "message": m,
         "lastHeartbeatTime": now, "lastTransitionTime": now}
        for t, r, m in (
            ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory"),
            ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"))]
    conditions.append({"type": "Ready", "status": "True", "reason": "KubeletReady",
                       "message": "kubelet is posting ready status",
                       "lastHeartbeatTime": now, "lastTransitionTime": now})
    return {
        "capacity": capacity, "allocatable": dict(capacity, memory="31Gi", cpu="7500m"),
        "conditions": conditions,
        "addresses": [{"type": "InternalIP", "address": f"192.168.126.{10 + index}"},
                      {"type": "Hostname", "address": name}],
        "nodeInfo": {"machineID": f"{index:032x}", "systemUUID": f"lab-{index}",
                     "bootID": f"boot-{index}", "kernelVersion": "5.14.0-570.el9.x86_64",
                     "osImage": "Red Hat Enterprise Linux CoreOS 9.6 (Plow)",
                     "containerRuntimeVersion": "cri-o://1.31.6", "kubeletVersion": "v1.31.6",
                     "kubeProxyVersion": "v1.31.6", "operatingSystem": "linux",
                     "architecture": "amd64"},
    }


def kubevirt_object(gates: tuple[str, ...] = DEFAULT_FEATURE_GATES) -> dict[str, Any]:
    now = now_rfc3339()
    return {
        "metadata": {"name": KUBEVIRT_NAME, "namespace": NAMESPACE,
                     "labels": {"app": "kubevirt-hyperconverged",
                                "app.kubernetes.io/managed-by": "hco-operator"},
                     "finalizers": ["foregroundDeleteKubeVirt"]},
        "spec": {"certificateRotateStrategy": {}, "workloadUpdateStrategy": {
            "workloadUpdateMethods": ["LiveMigrate"]},
            "configuration": {
                "developerConfiguration": {"featureGates": list(gates)},
                "migrations": {"parallelMigrationsPerCluster": 5,
                               "parallelOutboundMigrationsPerNode": 2,
                               "completionTimeoutPerGiB": 150, "progressTimeout": 150,
                               "allowAutoConverge": False, "allowPostCopy": False},
                "vmRolloutStrategy": "LiveUpdate"},
            "uninstallStrategy": "BlockUninstallIfWorkloadsExist"},
        "status": {
            "phase": "Deployed", "observedKubeVirtVersion": KUBEVIRT_VERSION,
            "targetKubeVirtVersion": KUBEVIRT_VERSION, "operatorVersion": KUBEVIRT_VERSION,
            "observedKubeVirtRegistry": "registry.redhat.io/container-native-virtualization",
            "defaultArchitecture": "amd64",
            "conditions": [
                {"type": t, "status": s, "reason": r, "message": m,
                 "lastProbeTime": now, "lastTransitionTime": now}
                for t, s, r, m in (
                    ("Available", "True", "AllResourcesCreated", "All resources were created."),
                    ("Progressing", "False", "AllResourcesCreated", "All resources were created."),
                    ("Degraded", "False", "AllResourcesCreated", "All resources were created."),
                    ("Created", "True", "AllResourcesCreated", "All resources were created."))],
        },
    }


def hyperconverged_object(gates: tuple[str, ...] = DEFAULT_FEATURE_GATES) -> dict[str, Any]:
    now = now_rfc3339()
    conditions = [
        {"type": t, "status": s, "reason": "ReconcileCompleted",
         "message": "Reconcile completed successfully", "lastTransitionTime": now,
         "observedGeneration": 1}
        for t, s in (("ReconcileComplete", "True"), ("Available", "True"),
                     ("Progressing", "False"), ("Degraded", "False"), ("Upgradeable", "True"))]
    annotations = {}
    if tuple(gates) != DEFAULT_FEATURE_GATES:
        annotations[HCO_JSONPATCH] = json.dumps([{
            "op": "replace", "path": "/spec/configuration/developerConfiguration/featureGates",
            "value": list(gates)}])
    return {
        "metadata": {"name": HCO_NAME, "namespace": NAMESPACE, "annotations": annotations,
                     "finalizers": ["kubevirt.io/hyperconverged"]},
        "spec": {"featureGates": {"downwardMetrics": False, "deployKubeSecondaryDNS": False,
                                  "disableMDevConfiguration": False,
                                  "persistentReservation": False,
                                  "alignCPUs": False, "enableMultiArchBootImageImport": False,
                                  "decentralizedLiveMigration": False,
                                  "declarativeHotplugVolumes": True},
                 "liveMigrationConfig": {"completionTimeoutPerGiB": 150,
                                         "parallelMigrationsPerCluster": 5,
                                         "parallelOutboundMigrationsPerNode": 2,
                                         "progressTimeout": 150, "allowAutoConverge": False,
                                         "allowPostCopy": False},
                 "filesystemOverhead": {"global": "0.055"},
                 "evictionStrategy": "LiveMigrate", "uninstallStrategy":
                     "BlockUninstallIfWorkloadsExist"},
        "status": {"conditions": conditions, "observedGeneration": 1,
                   "versions": [{"name": "operator", "version": HCO_VERSION}],
                   "relatedObjects": [{"kind": "KubeVirt", "apiVersion": "kubevirt.io/v1",
                                       "name": KUBEVIRT_NAME, "namespace": NAMESPACE}],
                   "systemHealthStatus": "healthy"},
    }


def bootstrap(store: Store, nodes: tuple[str, ...], schedulable: int | None = None,
              gates: tuple[str, ...] = DEFAULT_FEATURE_GATES) -> None:
    """Create what a freshly installed cluster shows; idempotent."""
    workers = len(nodes) if schedulable is None else schedulable
    for index, name in enumerate(nodes):
        if store.try_get("nodes", None, name) is None:
            store.create("nodes", node_object(name, index, index < workers))
    if store.try_get("namespaces", None, NAMESPACE) is None:
        store.create("namespaces", {"metadata": {"name": NAMESPACE}})
    for ref, obj in (("kubevirt.io/kubevirts", kubevirt_object(gates)),
                     ("hco.kubevirt.io/hyperconvergeds", hyperconverged_object(gates))):
        if store.try_get(ref, NAMESPACE, obj["metadata"]["name"]) is None:
            store.create(ref, obj)  # controllers' own writes may carry status
