"""Persistent VM state: the backend-storage claim of a VM with a persistent vTPM or EFI.

As kubevirt/kubevirt pkg/storage/backend-storage/backend-storage.go does it: a VMI whose
spec asks for `devices.tpm.persistent` or `firmware.bootloader.efi.persistent` gets the
claim `persistent-state-for-<vm>` (10Mi, ReadWriteMany, owned by the VM so it outlives
the VMI), on the KubeVirt CR's `vmStateStorageClass`, else on the class and volume mode
of the claim behind the VM's first disk (boot order first), else the cluster default.

The lab guest's EFI variable store is `${PROBE_DEV_ROOT}/sys/firmware/efi/efivars`; its
files are kept in the state volume's own bytes (written through the volume's export on
every change and when the VMI goes away, read back when the next VMI runs), so what
survives a restart is what the class really stored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..objects import owner_ref
from .runtime import Compute
from .vm import VMI
from .volumes import attach_state, detach, ensure_attached, pv_of

PREFIX = "persistent-state-for-"
SIZE = "10Mi"
MAGIC = b"KVSSTATE"
KUBEVIRT = "kubevirt.io/kubevirts"
SAVE_EVERY_S = 0.5
GATE = "VMPersistentState"  # required for persistent TPM/EFI in KubeVirt 1.3-1.5


def needs_state(spec: dict[str, Any]) -> bool:
    domain = spec.get("domain") or {}
    tpm = (domain.get("devices") or {}).get("tpm") or {}
    efi = ((domain.get("firmware") or {}).get("bootloader") or {}).get("efi") or {}
    return bool(tpm.get("persistent") or efi.get("persistent"))


def first_disk_claim(spec: dict[str, Any]) -> str | None:
    """The claim behind the first disk (those with a boot order first, in that order)."""
    disks = [d for d in ((spec.get("domain") or {}).get("devices") or {}).get("disks") or []
             if d.get("disk") is not None]
    disks.sort(key=lambda d: (d.get("bootOrder") is None, d.get("bootOrder") or 0))
    volumes = {v.get("name"): v for v in spec.get("volumes") or []}
    for disk in disks:
        volume = volumes.get(disk.get("name")) or {}
        claim = (volume.get("dataVolume") or {}).get("name") or \
            (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            return str(claim)
    return None


def pack(folder: Path) -> bytes:
    files = {p.name: p.read_bytes().hex() for p in sorted(folder.iterdir()) if p.is_file()}
    body = json.dumps(files).encode()
    return MAGIC + len(body).to_bytes(8, "big") + body


def unpack(data: bytes) -> dict[str, bytes]:
    if not data.startswith(MAGIC):
        return {}
    length = int.from_bytes(data[8:16], "big")
    try:
        return {k: bytes.fromhex(v) for k, v in json.loads(data[16:16 + length]).items()}
    except ValueError:
        return {}


class VmStateController:
    def __init__(self, compute: Compute) -> None:
        self.compute = compute
        self.store = compute.store
        # (ns, name) -> (VMI uid, device, PV, node, what was last written) of running VMIs
        self._live: dict[tuple[str, str], tuple[str, str, str, str, bytes]] = {}

    async def reconcile(self, namespace: str, name: str) -> float | None:
        vmi = self.store.try_get(VMI, namespace, name)
        live = self._live.get((namespace, name))
        if live is not None and (vmi is None or vmi["metadata"]["uid"] != live[0]):
            self._release(namespace, name)  # that VMI is gone: its node lets the volume go
            live = None
        if vmi is None or not needs_state(vmi["spec"]) or \
                not self.compute.ctx.cluster.has_gate(GATE):
            return None
        owner = next((o["name"] for o in vmi["metadata"].get("ownerReferences") or []
                      if o.get("kind") == "VirtualMachine"), None)
        claim = self._ensure_claim(vmi, owner)
        guest = self.compute.guests.get(vmi["metadata"]["uid"])
        if guest is None:
            return None if vmi["metadata"].get("deletionTimestamp") else 1.0
        store = guest.dev_root / "sys/firmware/efi/efivars"
        if live is None:
            found = await self._device(vmi, claim)
            if found is None:
                return 1.0
            device, pv_name, node = found
            data = device.open("rb").read(1 << 20) if device.exists() else b""
            # The store appears with its volume (a real VM boots only once the state
            # claim is there), holding what the volume holds.
            store.mkdir(parents=True, exist_ok=True)
            for file, content in unpack(data).items():
                (store / file).write_bytes(content)
            self._live[(namespace, name)] = (vmi["metadata"]["uid"], str(device), pv_name,
                                             node, data[:len(pack(store))])
            return SAVE_EVERY_S
        self._save(namespace, name, store)
        return SAVE_EVERY_S / 2 if vmi["metadata"].get("deletionTimestamp") else SAVE_EVERY_S

    def _release(self, namespace: str, name: str) -> None:
        _, _, pv_name, node, _ = self._live.pop((namespace, name))
        detach(self.store, pv_name, node)

    def _save(self, namespace: str, name: str, store: Path) -> None:
        uid, device, pv_name, node, saved = self._live[(namespace, name)]
        packed = pack(store)
        if packed == saved:
            return
        with open(device, "r+b") as out:
            out.write(packed)
            out.flush()
            os.fsync(out.fileno())
        self._live[(namespace, name)] = (uid, device, pv_name, node, packed)

    def _ensure_claim(self, vmi: dict[str, Any], owner: str | None) -> str:
        ns = vmi["metadata"]["namespace"]
        name = PREFIX + (owner or vmi["metadata"]["name"])
        if self.store.try_get("persistentvolumeclaims", ns, name) is not None:
            return name
        storage_class, mode = self._class_and_mode(vmi)
        refs = [{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "name": owner,
                 "uid": next(o["uid"] for o in vmi["metadata"]["ownerReferences"]
                             if o.get("kind") == "VirtualMachine"),
                 "controller": True, "blockOwnerDeletion": True}] if owner else [owner_ref(vmi)]
        spec: dict[str, Any] = {"accessModes": ["ReadWriteMany"],
                                "resources": {"requests": {"storage": SIZE}}}
        if storage_class:
            spec["storageClassName"] = storage_class
        if mode:
            spec["volumeMode"] = mode
        self.store.create("persistentvolumeclaims", {
            "metadata": {"name": name, "namespace": ns, "ownerReferences": refs},
            "spec": spec})
        return name

    def _class_and_mode(self, vmi: dict[str, Any]) -> tuple[str | None, str | None]:
        config: dict[str, Any] = {}
        for kv in self.store.list(KUBEVIRT)[0]:
            config = (kv.get("spec") or {}).get("configuration") or {}
        configured = config.get("vmStateStorageClass")
        mode = config.get("vmStateVolumeMode")
        if configured and mode:
            return configured, mode
        claim = first_disk_claim(vmi["spec"])
        pvc = self.store.try_get("persistentvolumeclaims", vmi["metadata"]["namespace"],
                                 claim) if claim else None
        if pvc is None:
            return configured, mode
        pvc_class = pvc["spec"].get("storageClassName")
        pvc_mode = pvc["spec"].get("volumeMode") or "Filesystem"
        if not configured:
            return pvc_class, pvc_mode
        if mode is None and pvc_class == configured:
            return configured, pvc_mode
        return configured, mode

    async def _device(self, vmi: dict[str, Any], claim: str
                      ) -> tuple[Path, str, str] | None:
        pvc = self.store.try_get("persistentvolumeclaims", vmi["metadata"]["namespace"], claim)
        if pvc is None or (pvc.get("status") or {}).get("phase") != "Bound":
            return None
        pv = pv_of(self.store, pvc)
        node = (vmi.get("status") or {}).get("nodeName")
        if pv is None or not node:
            return None
        attached, _ = attach_state(ensure_attached(self.store, pv, node))
        if not attached:
            return None
        device = await self.compute.device_path(pvc, node)
        return None if device is None else (device, pv["metadata"]["name"], node)
