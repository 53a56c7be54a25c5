"""The guest agent: its subresources (guestosinfo, userlist, filesystemlist, GET on a
VMI) and its filesystem freeze.

Shapes follow virt-api's VirtualMachineInstanceGuestAgentInfo / GuestOSUserList /
FileSystemList. The process guest has an "agent": it reports the guest's disks (with
serials), the logged-in console user and the OS facts the VMI status already carries,
and freezes the guest for a VM snapshot (its disks flushed, its processes stopped, so no
write lands until the thaw, as guest-fsfreeze-freeze holds writers). The QEMU guest's
image runs no qemu-guest-agent, so such a VMI has no AgentConnected condition and these
subresources answer as virt-api does without one: 409 Conflict "VMI does not have guest
agent connected" (kubevirt pkg/virt-api/rest/subresource.go).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from .. import conditions as cond
from ..errors import ApiError
from .procs import kill_session, stop_until_still
from .runtime import Compute
from .vm import VMI
from .vmifacts import guest_os_info
from .volumes import disks_of

COMMANDS = ("guest-info", "guest-ping", "guest-get-osinfo", "guest-get-fsinfo",
            "guest-get-users", "guest-fsfreeze-freeze", "guest-fsfreeze-thaw",
            "guest-fsfreeze-status", "guest-get-host-name", "guest-get-timezone",
            "guest-network-get-interfaces", "guest-exec", "guest-set-user-password")


def _json(body: dict[str, Any]) -> web.Response:
    return web.Response(status=200, text=json.dumps(body), content_type="application/json")


def _conflict(name: str, why: str) -> ApiError:
    """virt-api's errors.NewConflict on the VMI resource."""
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on virtualmachineinstance.kubevirt.io '
                    f'"{name}": {why}',
                    {"name": name, "group": "kubevirt.io", "kind": "virtualmachineinstance"})


def agent_connected(guest: Any) -> bool:
    """Whether the guest runs an agent virt-handler would see connected (the process
    guest's stand-in does; the QEMU image has none)."""
    return guest is not None and bool(getattr(guest, "guest_agent", True))


FREEZE_LIMIT_S = 300.0  # the VM snapshot's default failureDeadline: the thaw's deadline


class FsFreezer:
    """guest-fsfreeze-freeze / -thaw for the process guest: flush its disks, stop every
    process of its session (a write blocks until the thaw), continue them on thaw.
    A freeze left behind thaws itself after `limit_s`, as virt-launcher's unfreeze
    timeout does."""

    def __init__(self, compute: Compute, limit_s: float = FREEZE_LIMIT_S) -> None:
        self.compute = compute
        self.limit_s = limit_s
        self.frozen: dict[str, asyncio.TimerHandle] = {}  # VMI uid -> auto-thaw

    def _guest(self, uid: str) -> Any:
        guest = self.compute.guests.get(uid)
        return guest if agent_connected(guest) and getattr(guest, "alive", False) else None

    async def freeze(self, uid: str) -> bool:
        """Freeze the guest; False when it has no agent to do it."""
        guest = self._guest(uid)
        if guest is None:
            return False
        if uid in self.frozen:
            return True
        links = guest.dev_root / "dev/disk/by-id"
        await asyncio.to_thread(_flush, sorted(links.iterdir()) if links.is_dir() else [])
        await stop_until_still(guest.process.pid)
        loop = asyncio.get_running_loop()
        self.frozen[uid] = loop.call_later(self.limit_s, self.thaw, uid)
        return True

    def thaw(self, uid: str) -> None:
        handle = self.frozen.pop(uid, None)
        if handle is None:
            return
        handle.cancel()
        guest = self.compute.guests.get(uid)
        if guest is not None and guest.process is not None:
            kill_session(guest.process.pid, signal.SIGCONT)


def _flush(devices: list[Path]) -> None:
    """What a freeze does first: the guest's written data reaches its disks."""
    for device in devices:
        with contextlib.suppress(OSError):
            fd = os.open(device, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


class AgentHandlers:
    def __init__(self, compute: Compute) -> None:
        self.compute = compute

    def _vmi(self, namespace: str | None, name: str) -> dict[str, Any]:
        vmi = self.compute.store.try_get(VMI, namespace or "", name)
        if vmi is None:
            raise ApiError(404, "NotFound",
                           f'virtualmachineinstance.kubevirt.io "{name}" not found')
        if vmi.get("status", {}).get("phase") != "Running":
            raise _conflict(name, "VMI is not running")
        if cond.get(vmi["status"].get("conditions"), "AgentConnected") is None:
            raise _conflict(name, "VMI does not have guest agent connected")
        return vmi

    def _filesystems(self, vmi: dict[str, Any]) -> list[dict[str, Any]]:
        root = os.statvfs("/")
        disks = [{"serial": d.serial, "busType": "virtio"} if d.serial else {"busType": "virtio"}
                 for d in disks_of(vmi["spec"])]
        total = root.f_blocks * root.f_frsize
        return [{"diskName": "vda1", "mountPoint": "/", "fileSystemType": "ext4",
                 "usedBytes": total - root.f_bfree * root.f_frsize, "totalBytes": total,
                 "disk": disks[:1] or [{"busType": "virtio"}]}]

    def _users(self, vmi: dict[str, Any]) -> list[dict[str, Any]]:
        guest = self.compute.guests.get(vmi["metadata"]["uid"])
        names = list(guest.config.credentials) if guest is not None else []
        return [{"userName": n, "loginTime": time.time()} for n in names[:1]]

    async def guestosinfo(self, _r: web.Request, namespace: str | None,
                          name: str) -> web.Response:
        vmi = self._vmi(namespace, name)
        return _json({
            "metadata": {}, "guestAgentVersion": "9.2.0",
            "supportedCommands": [{"name": c, "enabled": True} for c in COMMANDS],
            "hostname": name, "os": guest_os_info(), "timezone": "UTC, 0",
            "userList": self._users(vmi), "fsInfo": {"disks": self._filesystems(vmi)},
            "fsFreezeStatus": vmi["status"].get("fsFreezeStatus") or "thawed"})

    async def userlist(self, _r: web.Request, namespace: str | None, name: str) -> web.Response:
        vmi = self._vmi(namespace, name)
        return _json({"metadata": {}, "items": self._users(vmi)})

    async def filesystemlist(self, _r: web.Request, namespace: str | None,
                             name: str) -> web.Response:
        vmi = self._vmi(namespace, name)
        return _json({"metadata": {}, "items": self._filesystems(vmi)})
