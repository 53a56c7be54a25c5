"""A lab pod's volumes, resolved to host paths the sandbox bind-mounts.

hostPath is a path in the node's view (`state_dir/nodes/<node>/`), so a privileged pod
with `/` mounted sees that node's devices; claims are attached to the node through
VolumeAttachments first (Block claims via `volumeDevices`, Filesystem claims as the
folder holding `disk.img`); emptyDir, configMap and secret become private folders.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from .volumes import (
    ANN_SELECTED_NODE,
    attach_state,
    detach,
    ensure_attached,
    multi_attach_error,
    pv_of,
)

Mounts = dict[str, list[dict[str, Any]]]


class PodVolumes:
    def __init__(self, compute: Any) -> None:
        self.compute = compute
        self.store = compute.store
        self._claims: dict[tuple[str, str], list[str]] = {}

    async def prepare(self, pod: dict[str, Any], node: str, workdir: Path) -> Mounts | None:
        """Mounts per container name, or None while a claim is not usable yet."""
        sources: dict[str, tuple[Path, bool]] = {}
        for volume in pod["spec"].get("volumes") or []:
            found = await self._source(pod, node, volume, workdir)
            if found is None:
                return None
            sources[volume["name"]] = found
        out: Mounts = {}
        for container in pod["spec"].get("containers", []):
            mounts = []
            for item in (container.get("volumeMounts") or []) + \
                    (container.get("volumeDevices") or []):
                source, block_device = sources.get(item["name"], (None, False))
                if source is None:
                    continue
                target = item.get("mountPath") or item.get("devicePath")
                if "mountPath" in item and block_device:
                    source = source.parent  # a Filesystem claim: the folder with disk.img
                mounts.append({"source": str(source), "target": target,
                               "readOnly": bool(item.get("readOnly"))})
            out[container["name"]] = mounts
        return out

    async def _source(self, pod: dict[str, Any], node: str, volume: dict[str, Any],
                      workdir: Path) -> tuple[Path, bool] | None:
        if "hostPath" in volume:
            path = self.compute.ctx.state_dir / "nodes" / node / \
                volume["hostPath"]["path"].lstrip("/")
            if not path.exists():
                path.mkdir(parents=True)
            return path, False
        if "persistentVolumeClaim" in volume:
            device = await self._claim(pod, node, volume["persistentVolumeClaim"]["claimName"])
            return (device, True) if device is not None else None
        folder = workdir / "volumes" / volume["name"]
        folder.mkdir(parents=True, exist_ok=True)
        for key, value in self._items(pod, volume).items():
            (folder / key).write_bytes(value)
        return folder, False

    def _items(self, pod: dict[str, Any], volume: dict[str, Any]) -> dict[str, bytes]:
        ns = pod["metadata"]["namespace"]
        if "configMap" in volume:
            cm = self.store.try_get("configmaps", ns, volume["configMap"]["name"]) or {}
            return {k: str(v).encode() for k, v in (cm.get("data") or {}).items()}
        if "secret" in volume:
            secret = self.store.try_get("secrets", ns, volume["secret"]["secretName"]) or {}
            return {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}
        return {}

    async def _claim(self, pod: dict[str, Any], node: str, claim: str) -> Path | None:
        ns = pod["metadata"]["namespace"]
        pvc = self.store.try_get("persistentvolumeclaims", ns, claim)
        if pvc is None:
            return None
        if pvc.get("status", {}).get("phase") != "Bound":
            if ANN_SELECTED_NODE not in (pvc["metadata"].get("annotations") or {}):
                self.store.mutate("persistentvolumeclaims", ns, claim, lambda p: p[
                    "metadata"].setdefault("annotations", {}).__setitem__(
                    ANN_SELECTED_NODE, node))
            return None
        pv = pv_of(self.store, pvc)
        if pv is None or multi_attach_error(self.store, pvc, pv, node):
            return None
        attached, _ = attach_state(ensure_attached(self.store, pv, node))
        if not attached:
            return None
        key = (ns, pod["metadata"]["name"])
        self._claims.setdefault(key, []).append(pv["metadata"]["name"])
        return await self.compute.device_path(pvc, node)

    def release(self, pod: dict[str, Any], node: str) -> None:
        self.release_by_key((pod["metadata"]["namespace"], pod["metadata"]["name"]), node)

    def release_by_key(self, key: tuple[str, str], node: str) -> None:
        """Detach the pod's volumes from `node` unless a VMI there still uses them."""
        for pv_name in set(self._claims.pop(key, [])):
            if not self._vmi_uses(pv_name, node):
                detach(self.store, pv_name, node)

    def _vmi_uses(self, pv_name: str, node: str) -> bool:
        for vmi in self.store.list("kubevirt.io/virtualmachineinstances")[0]:
            if vmi.get("status", {}).get("nodeName") != node:
                continue
            for volume in vmi["spec"].get("volumes", []):
                source = volume.get("persistentVolumeClaim") or volume.get("dataVolume") or {}
                claim = source.get("claimName") or source.get("name")
                pvc = self.store.try_get("persistentvolumeclaims",
                                         vmi["metadata"]["namespace"], claim or "")
                if pvc and pvc.get("spec", {}).get("volumeName") == pv_name:
                    return True
        return False
