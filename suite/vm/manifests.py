"""Manifests for the objects the checks create, as plain dicts for `Kube.create`.

Builders rather than templates: every field is spelled as the real KubeVirt v1, CDI
v1beta1, snapshot.storage.k8s.io/v1 and core v1 APIs define it (the lab validates
strictly against those schemas), and Python keeps the optional parts readable. The run
label is added by `Kube.create`, so it is not repeated here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from suite.vm.userdata import volume_source

VM_API = "kubevirt.io/v1"
CDI_API = "cdi.kubevirt.io/v1beta1"
SNAPSHOT_API = "snapshot.storage.k8s.io/v1"
VM_SNAPSHOT_API = "snapshot.kubevirt.io/v1beta1"
ROLE_LABEL = "kvstorage.io/role"


@dataclass(frozen=True)
class DataDisk:
    """A data disk of a VM: a new DataVolume (blank or cloned) or an existing claim."""

    name: str
    serial: str
    storage_class: str = ""
    volume_mode: str = "Filesystem"
    access_mode: str = "ReadWriteOnce"
    size_bytes: int = 1 << 30
    clone_from: str | None = None  # PVC name to clone into a new DataVolume
    claim: str | None = None  # existing PVC: used as is, no DataVolume
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def claim_name(self) -> str:
        return self.claim or self.name


@dataclass(frozen=True)
class GuestSpec:
    image: str
    user: str
    password: str
    memory: str = "1Gi"
    cpu_cores: int = 1
    packages: tuple[str, ...] = ()  # cloud-init `packages:` (fio where the image lacks it)


def storage_spec(disk: DataDisk) -> dict[str, Any]:
    return {
        "storageClassName": disk.storage_class,
        "volumeMode": disk.volume_mode,
        "accessModes": [disk.access_mode],
        "resources": {"requests": {"storage": str(disk.size_bytes)}},
    }


def datavolume_spec(disk: DataDisk, namespace: str) -> dict[str, Any]:
    source: dict[str, Any] = {"blank": {}}
    if disk.clone_from:
        source = {"pvc": {"namespace": namespace, "name": disk.clone_from}}
    return {"source": source, "storage": storage_spec(disk)}


def datavolume(disk: DataDisk, namespace: str) -> dict[str, Any]:
    """A standalone DataVolume (the clone check's target)."""
    return {
        "apiVersion": CDI_API,
        "kind": "DataVolume",
        "metadata": {"name": disk.name, "namespace": namespace, "labels": dict(disk.labels)},
        "spec": datavolume_spec(disk, namespace),
    }


def _disk_entries(disks: list[DataDisk], namespace: str) -> tuple[list, list, list]:
    devices, volumes, templates = [], [], []
    for disk in disks:
        devices.append({"name": disk.name, "disk": {"bus": "virtio"}, "serial": disk.serial})
        if disk.claim:
            volumes.append({"name": disk.name,
                            "persistentVolumeClaim": {"claimName": disk.claim}})
            continue
        volumes.append({"name": disk.name, "dataVolume": {"name": disk.name}})
        templates.append({"metadata": {"name": disk.name, "labels": dict(disk.labels)},
                          "spec": datavolume_spec(disk, namespace)})
    return devices, volumes, templates


def virtual_machine(
    name: str,
    namespace: str,
    guest: GuestSpec,
    disks: list[DataDisk],
    *,
    user_data_secret: str,
    running: bool = True,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A VM booting the profile's containerDisk with the given data disks; its cloud-init
    user data is the Secret `user_data_secret` (see `suite.vm.userdata`)."""
    devices, volumes, templates = _disk_entries(disks, namespace)
    return {
        "apiVersion": VM_API,
        "kind": "VirtualMachine",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
        "spec": {
            "runStrategy": "Always" if running else "Halted",
            "dataVolumeTemplates": templates,
            "template": {
                "metadata": {"labels": {"kubevirt.io/vm": name}},
                "spec": _vmi_spec(guest, devices, volumes, user_data_secret),
            },
        },
    }


def _vmi_spec(guest: GuestSpec, devices: list, volumes: list, secret: str) -> dict[str, Any]:
    return {
        "domain": {
            "cpu": {"cores": guest.cpu_cores},
            "resources": {"requests": {"memory": guest.memory}},
            "devices": {
                "disks": [
                    {"name": "rootdisk", "disk": {"bus": "virtio"}},
                    {"name": "cloudinit", "disk": {"bus": "virtio"}},
                    *devices,
                ],
                # masquerade on the pod network keeps the VM live-migratable
                "interfaces": [{"name": "default", "masquerade": {}}],
            },
        },
        "networks": [{"name": "default", "pod": {}}],
        "terminationGracePeriodSeconds": 30,
        "volumes": [
            {"name": "rootdisk", "containerDisk": {"image": guest.image}},
            {"name": "cloudinit", "cloudInitNoCloud": volume_source(secret)},
            *volumes,
        ],
    }


def pvc_from_snapshot(name: str, namespace: str, snapshot: str, disk: DataDisk,
                      size: str) -> dict[str, Any]:
    """A claim restored from a VolumeSnapshot (the CSI restore path, no CDI in between)."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "storageClassName": disk.storage_class,
            "volumeMode": disk.volume_mode,
            "accessModes": [disk.access_mode],
            "resources": {"requests": {"storage": size}},
            "dataSource": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
                           "name": snapshot},
        },
    }


def volume_snapshot(name: str, namespace: str, claim: str, snapshot_class: str | None
                    ) -> dict[str, Any]:
    spec: dict[str, Any] = {"source": {"persistentVolumeClaimName": claim}}
    if snapshot_class:
        spec["volumeSnapshotClassName"] = snapshot_class
    return {"apiVersion": SNAPSHOT_API, "kind": "VolumeSnapshot",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def vm_snapshot(name: str, namespace: str, vm: str, api: str = VM_SNAPSHOT_API
                ) -> dict[str, Any]:
    return {"apiVersion": api, "kind": "VirtualMachineSnapshot",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine",
                                "name": vm}}}


def vm_restore(name: str, namespace: str, vm: str, snapshot: str, api: str = VM_SNAPSHOT_API
               ) -> dict[str, Any]:
    return {"apiVersion": api, "kind": "VirtualMachineRestore",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"target": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine",
                                "name": vm},
                     "virtualMachineSnapshotName": snapshot}}


def migration(name: str, namespace: str, vmi: str) -> dict[str, Any]:
    return {"apiVersion": VM_API, "kind": "VirtualMachineInstanceMigration",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"vmiName": vmi}}


def node_pod(name: str, namespace: str, node: str, image: str, script: str
             ) -> dict[str, Any]:
    """A privileged one-shot pod on `node` with the node's root at /host."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "nodeName": node,
            "restartPolicy": "Never",
            "hostPID": False,
            "containers": [{
                "name": "inspect",
                "image": image,
                "command": ["/bin/sh", "-c", script],
                "securityContext": {"privileged": True, "runAsUser": 0},
                "volumeMounts": [{"name": "host", "mountPath": "/host", "readOnly": True}],
            }],
            "volumes": [{"name": "host", "hostPath": {"path": "/", "type": "Directory"}}],
            "tolerations": [{"operator": "Exists"}],
        },
    }
