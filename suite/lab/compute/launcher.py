"""The virt-launcher Pod of a VMI, as KubeVirt shows it to tools that look for it.

The pod is an API object only: the guest process belongs to the lab's virt-handler.
Its status follows a real launcher's: Pending while volumes attach, Running with the
`compute` container ready, Succeeded (Completed) after the guest stops or leaves by
migration.
"""

from __future__ import annotations

import secrets
import string
from typing import TYPE_CHECKING, Any

from ..clock import now_rfc3339
from ..objects import owner_ref
from .volumes import disks_of

if TYPE_CHECKING:
    from ..store import Store

LAUNCHER_IMAGE = ("registry.redhat.io/container-native-virtualization/"
                  "virt-launcher-rhel9@sha256:" + "0" * 64)
LABEL_APP = "kubevirt.io"
LABEL_CREATED_BY = "kubevirt.io/created-by"
LABEL_MIGRATION = "kubevirt.io/migrationJobUID"


def _suffix() -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(5))


def launcher_pod(vmi: dict[str, Any], node: str,
                 migration_uid: str | None = None) -> dict[str, Any]:
    meta = vmi["metadata"]
    labels = dict(meta.get("labels") or {})
    labels.update({LABEL_APP: "virt-launcher", LABEL_CREATED_BY: meta["uid"],
                   "vm.kubevirt.io/name": meta["name"], "kubevirt.io/nodeName": node})
    if migration_uid:
        labels[LABEL_MIGRATION] = migration_uid
    pod = {
        "metadata": {"name": f"virt-launcher-{meta['name']}-{_suffix()}",
                     "namespace": meta["namespace"], "labels": labels,
                     "annotations": {"kubevirt.io/domain": meta["name"],
                                     "kubectl.kubernetes.io/default-container": "compute",
                                     "kubevirt.io/migrationTransportUnix": "true"},
                     "ownerReferences": [owner_ref(vmi)]},
        "spec": _spec(vmi, node),
    }
    pod["status"] = pending_status()
    return pod


def _spec(vmi: dict[str, Any], node: str) -> dict[str, Any]:
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    devices: list[dict[str, Any]] = []
    for disk in disks_of(vmi["spec"]):
        volumes.append({"name": disk.volume,
                        "persistentVolumeClaim": {"claimName": disk.claim}})
        mounts.append({"name": disk.volume,
                       "mountPath": f"/var/run/kubevirt-private/vmi-disks/{disk.volume}"})
    container = {"name": "compute", "image": LAUNCHER_IMAGE,
                 "command": ["/usr/bin/virt-launcher-monitor", "--qemu-timeout", "321s",
                             "--name", vmi["metadata"]["name"], "--uid",
                             vmi["metadata"]["uid"], "--namespace",
                             vmi["metadata"]["namespace"]],
                 "resources": {"requests": {"cpu": "100m", "memory": "1294Mi"},
                               "limits": {"devices.kubevirt.io/kvm": "1"}},
                 "volumeMounts": mounts, "volumeDevices": devices,
                 "imagePullPolicy": "IfNotPresent"}
    containers = [container]
    for volume in vmi["spec"].get("volumes", []):
        image = (volume.get("containerDisk") or {}).get("image")
        if image:  # KubeVirt serves each containerDisk from a container of its own
            containers.append({"name": f"volume{volume['name']}", "image": image,
                               "imagePullPolicy": "IfNotPresent",
                               "command": ["/usr/bin/container-disk"]})
        source = volume.get("cloudInitNoCloud") or volume.get("cloudInitConfigDrive") or {}
        ref = source.get("secretRef")  # UserDataSecretRef's JSON name
        if ref:  # mounted for virt-launcher to read (rendervolumes.go)
            volumes.append({"name": f"{volume['name']}-udata",
                            "secret": {"secretName": ref.get("name", "")}})
            mounts.append({"name": f"{volume['name']}-udata", "readOnly": True,
                           "subPath": "userdata", "mountPath":
                           f"/var/run/kubevirt-private/secret/{volume['name']}/userdata"})
    return {"nodeName": node, "nodeSelector": {"kubevirt.io/schedulable": "true"},
            "containers": containers, "volumes": volumes, "restartPolicy": "Never",
            "serviceAccountName": "default", "terminationGracePeriodSeconds": 210,
            "automountServiceAccountToken": False, "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler"}


def _conditions(ready: bool) -> list[dict[str, Any]]:
    now = now_rfc3339()
    status = "True" if ready else "False"
    out = [{"type": "PodScheduled", "status": "True", "lastTransitionTime": now,
            "lastProbeTime": None}]
    for type_ in ("Initialized", "ContainersReady", "Ready"):
        out.append({"type": type_, "status": status if type_ != "Initialized" else "True",
                    "lastTransitionTime": now, "lastProbeTime": None})
    return out


def pending_status() -> dict[str, Any]:
    return {"phase": "Pending", "qosClass": "Burstable", "conditions": _conditions(False),
            "containerStatuses": [{"name": "compute", "ready": False, "restartCount": 0,
                                   "image": LAUNCHER_IMAGE, "imageID": "",
                                   "started": False,
                                   "state": {"waiting": {"reason": "ContainerCreating"}}}]}


def running_status(node_ip: str, pod_ip: str) -> dict[str, Any]:
    now = now_rfc3339()
    return {"phase": "Running", "qosClass": "Burstable", "hostIP": node_ip,
            "hostIPs": [{"ip": node_ip}], "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
            "startTime": now, "conditions": _conditions(True),
            "containerStatuses": [{"name": "compute", "ready": True, "restartCount": 0,
                                   "image": LAUNCHER_IMAGE, "imageID": LAUNCHER_IMAGE,
                                   "containerID": f"cri-o://{secrets.token_hex(32)}",
                                   "started": True, "state": {"running": {"startedAt": now}}}]}


def completed_status(old: dict[str, Any]) -> dict[str, Any]:
    status = dict(old or {})
    now = now_rfc3339()
    status["phase"] = "Succeeded"
    status["conditions"] = [dict(c, status="False") if c["type"] in ("Ready", "ContainersReady")
                            else c for c in status.get("conditions", [])]
    started = (status.get("containerStatuses") or [{}])[0].get("state", {}).get("running", {})
    status["containerStatuses"] = [{
        "name": "compute", "ready": False, "restartCount": 0, "image": LAUNCHER_IMAGE,
        "imageID": LAUNCHER_IMAGE, "started": False,
        "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                                 "startedAt": started.get("startedAt", now),
                                 "finishedAt": now}}}]
    return status


def pods_of(store: Store, vmi: dict[str, Any]) -> list[dict[str, Any]]:
    items, _ = store.list("pods", vmi["metadata"]["namespace"],
                          label_selector=f"{LABEL_CREATED_BY}={vmi['metadata']['uid']}")
    return items
