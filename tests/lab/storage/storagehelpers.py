"""Helpers for the storage tests: typed API handles, waits, and byte access to volumes.

Every call goes through the real `kubernetes` client over HTTPS; only the bytes of a
volume are read and written straight in its export file (what a consumer would see),
through the lab's data plane paths.
"""

from __future__ import annotations

import inspect
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes
from kubernetes.client import ApiClient, CoreV1Api, CustomObjectsApi, StorageV1Api

from suite.lab.lab import Lab

SNAP = ("snapshot.storage.k8s.io", "v1")
CDI = ("cdi.kubevirt.io", "v1beta1")
MIB = 1024 * 1024


@dataclass
class Api:
    client: ApiClient

    @property
    def core(self) -> CoreV1Api:
        return CoreV1Api(self.client)

    @property
    def storage(self) -> StorageV1Api:
        return StorageV1Api(self.client)

    @property
    def custom(self) -> CustomObjectsApi:
        return CustomObjectsApi(self.client)

    def pvc(self, ns: str, name: str) -> dict[str, Any]:
        return self.client.sanitize_for_serialization(
            self.core.read_namespaced_persistent_volume_claim(name, ns))

    def create_pvc(self, ns: str, name: str, sc: str, mode: str, access: list[str],
                   size: str = "64Mi", data_source: dict[str, Any] | None = None,
                   annotations: dict[str, str] | None = None) -> None:
        spec: dict[str, Any] = {"storageClassName": sc, "volumeMode": mode,
                                "accessModes": access,
                                "resources": {"requests": {"storage": size}}}
        if data_source:
            spec["dataSource"] = data_source
        meta: dict[str, Any] = {"name": name, "annotations": annotations or {}}
        self.core.create_namespaced_persistent_volume_claim(ns, {"metadata": meta, "spec": spec})

    def events(self, ns: str, name: str) -> list[tuple[str, str, str]]:
        items = self.core.list_namespaced_event(ns).items
        return [(e.type, e.reason, e.message) for e in items if e.involved_object.name == name]

    def custom_get(self, gv: tuple[str, str], plural: str, name: str,
                   ns: str | None = None) -> dict[str, Any]:
        if ns is None:
            return self.custom.get_cluster_custom_object(*gv, plural, name)
        return self.custom.get_namespaced_custom_object(*gv, ns, plural, name)

    def custom_create(self, gv: tuple[str, str], plural: str, ns: str,
                      body: dict[str, Any]) -> dict[str, Any]:
        return self.custom.create_namespaced_custom_object(*gv, ns, plural, body)

    def resize(self, ns: str, name: str, size: str) -> None:
        self.core.patch_namespaced_persistent_volume_claim(
            name, ns, {"spec": {"resources": {"requests": {"storage": size}}}})

    def attach(self, pv: str, node: str, driver: str) -> str:
        name = f"csi-{uuid.uuid4().hex[:20]}"
        self.storage.create_volume_attachment({
            "metadata": {"name": name},
            "spec": {"attacher": driver, "nodeName": node,
                     "source": {"persistentVolumeName": pv}}})
        return name


def wait_for(what: str, probe: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    """Poll `probe` until it returns something truthy; fail naming `what` and the last value."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}; last: {last!r}")


def wait_bound(api: Api, ns: str, name: str, timeout_s: float = 30.0) -> dict[str, Any]:
    return wait_for(f"PVC {ns}/{name} Bound", lambda: _if(
        api.pvc(ns, name), lambda p: p.get("status", {}).get("phase") == "Bound"), timeout_s)


def wait_event(api: Api, ns: str, name: str, reason: str,
               timeout_s: float = 20.0) -> tuple[str, str, str]:
    return wait_for(f"event {reason} on {name}", lambda: next(
        (e for e in api.events(ns, name) if e[1] == reason), None), timeout_s)


def snapshot(api: Api, ns: str, name: str, claim: str) -> None:
    api.custom_create(SNAP, "volumesnapshots", ns, {
        "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
        "metadata": {"name": name}, "spec": {"source": {"persistentVolumeClaimName": claim}}})


def ready_snapshot(api: Api, ns: str, name: str, timeout_s: float = 20.0) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        vs = api.custom_get(SNAP, "volumesnapshots", name, ns)
        return vs if (vs.get("status") or {}).get("readyToUse") else None

    return wait_for(f"snapshot {name} ready", probe, timeout_s)


def restore(api: Api, ns: str, name: str, sc: str, mode: str, snap: str, size: str) -> None:
    api.create_pvc(ns, name, sc, mode, ["ReadWriteOnce"], size=size, data_source={
        "apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": snap})


def _if(value: Any, test: Callable[[Any], bool]) -> Any:
    return value if test(value) else None


def handle_of(api: Api, ns: str, pvc: str) -> str:
    pv_name = api.pvc(ns, pvc)["spec"]["volumeName"]
    pv = api.client.sanitize_for_serialization(api.core.read_persistent_volume(pv_name))
    return str(pv["spec"]["csi"]["volumeHandle"])


def dataplane(lab: Lab, method: str, *args: Any, **kwargs: Any) -> Any:
    """Call a data-plane method on the lab's loop (sync or async alike)."""
    async def invoke() -> Any:
        assert lab.ctx is not None
        result = getattr(lab.ctx.dataplane, method)(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    return lab.run(invoke())


def export_of(lab: Lab, api: Api, ns: str, pvc: str) -> Path:
    return Path(dataplane(lab, "export_path", handle_of(api, ns, pvc)))


def write_at(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def read_at(path: Path, offset: int, length: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(length)


@contextmanager
def namespace(api: Api, prefix: str) -> Iterator[str]:
    """A fresh namespace, deleted afterwards (its claims and volumes go with it)."""
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    api.core.create_namespace({"metadata": {"name": name}})
    try:
        yield name
    finally:
        api.core.delete_namespace(name)
        wait_for(f"namespace {name} gone", lambda: name not in
                 [n.metadata.name for n in api.core.list_namespace().items], 60)


def api_for(lab: Lab) -> Api:
    return Api(kubernetes.config.new_client_from_config(config_file=str(lab.kubeconfig_path)))


def create_dv(api: Api, ns: str, name: str, source: dict[str, Any], storage: dict[str, Any],
              annotations: dict[str, str] | None = None) -> None:
    api.custom_create(CDI, "datavolumes", ns, {
        "apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {"source": source, "storage": storage}})


def dv_phase(api: Api, ns: str, name: str) -> str:
    return str((api.custom_get(CDI, "datavolumes", name, ns).get("status") or {}).get("phase"))


def wait_dv(api: Api, ns: str, name: str, phase: str = "Succeeded",
            timeout_s: float = 30.0) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        dv = api.custom_get(CDI, "datavolumes", name, ns)
        return dv if (dv.get("status") or {}).get("phase") == phase else None

    return wait_for(f"DataVolume {ns}/{name} {phase}", probe, timeout_s)
