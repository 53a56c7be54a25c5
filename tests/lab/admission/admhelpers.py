"""Objects the admission tests send, and a way to read a refusal as the client sees it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import kubernetes
import pytest

KV = ("kubevirt.io", "v1")
CDI = ("cdi.kubevirt.io", "v1beta1")
SNAP = ("snapshot.storage.k8s.io", "v1")
IMAGE = "quay.io/containerdisks/fedora:41"
SHORT_USER_DATA = "#cloud-config\npassword: lab\nchpasswd: {expire: false}\n"
LONG_USER_DATA = "#cloud-config\n" + "x" * 2100  # over KubeVirt's 2048-byte limit


def refusal(call: Callable[[], Any]) -> tuple[int, dict[str, Any]]:
    """(HTTP status, Status body) of a call that must be refused."""
    with pytest.raises(kubernetes.client.ApiException) as refused:
        call()
    return refused.value.status, json.loads(refused.value.body)


def vmi_spec(user_data: str = SHORT_USER_DATA) -> dict[str, Any]:
    """A VMI spec KubeVirt admits: every disk names a volume and every volume a disk."""
    return {
        "domain": {"resources": {"requests": {"memory": "128Mi"}},
                   "devices": {"disks": [{"name": "rootdisk", "disk": {"bus": "virtio"}},
                                         {"name": "cloudinit", "disk": {"bus": "virtio"}}]}},
        "volumes": [{"name": "rootdisk", "containerDisk": {"image": IMAGE}},
                    {"name": "cloudinit", "cloudInitNoCloud": {"userData": user_data}}],
    }


def vm(name: str, spec: dict[str, Any] | None = None, *, run_strategy: str | None = "Halted",
       templates: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"template": {"spec": spec or vmi_spec()}}
    if run_strategy is not None:
        body["runStrategy"] = run_strategy
    if templates:
        body["dataVolumeTemplates"] = templates
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
            "metadata": {"name": name}, "spec": body}


def vmi(name: str, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
            "metadata": {"name": name}, "spec": spec or vmi_spec()}


def with_disk(spec: dict[str, Any], disk: dict[str, Any],
              volume: dict[str, Any] | None) -> dict[str, Any]:
    out = copy.deepcopy(spec)
    out["domain"]["devices"]["disks"].append(disk)
    if volume is not None:
        out["volumes"].append(volume)
    return out


def storage(size: str = "64Mi", storage_class: str = "lab-slow") -> dict[str, Any]:
    return {"storageClassName": storage_class, "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": size}}}


def datavolume(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
            "metadata": {"name": name}, "spec": spec}


def create_custom(api_client: kubernetes.client.ApiClient, group_version: tuple[str, str],
                  ns: str, plural: str, body: dict[str, Any]) -> Any:
    return kubernetes.client.CustomObjectsApi(api_client).create_namespaced_custom_object(
        *group_version, ns, plural, body)


def wait_until(read: Callable[[], Any], done: Callable[[Any], bool], what: str,
               timeout_s: float = 60.0) -> Any:
    """Poll `read()` until `done(value)`; fail naming `what` after the timeout."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; last: {value!r}"[:2000])
        time.sleep(0.2)
