"""Guest-agent subresources: guestosinfo, userlist, filesystemlist (GET on a VMI).

Shapes follow virt-api's VirtualMachineInstanceGuestAgentInfo / GuestOSUserList /
FileSystemList. The lab guest's "agent" reports the guest's disks (with serials), the
logged-in console user and the OS facts the VMI status already carries.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from aiohttp import web

from .. import conditions as cond
from ..errors import ApiError
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


class AgentHandlers:
    def __init__(self, compute: Compute) -> None:
        self.compute = compute

    def _vmi(self, namespace: str | None, name: str) -> dict[str, Any]:
        vmi = self.compute.store.try_get(VMI, namespace or "", name)
        if vmi is None:
            raise ApiError(404, "NotFound",
                           f'virtualmachineinstance.kubevirt.io "{name}" not found')
        prefix = f'Operation cannot be fulfilled on virtualmachineinstance.kubevirt.io "{name}": '
        if vmi.get("status", {}).get("phase") != "Running":
            raise ApiError(500, "InternalError", prefix + "VMI is not running")
        if cond.get(vmi["status"].get("conditions"), "AgentConnected") is None:
            raise ApiError(500, "InternalError", prefix + "VMI does not have guest agent connected")
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
            "fsFreezeStatus": vmi["status"].get("fsFreezeStatus", "thawed")})

    async def userlist(self, _r: web.Request, namespace: str | None, name: str) -> web.Response:
        vmi = self._vmi(namespace, name)
        return _json({"metadata": {}, "items": self._users(vmi)})

    async def filesystemlist(self, _r: web.Request, namespace: str | None,
                             name: str) -> web.Response:
        vmi = self._vmi(namespace, name)
        return _json({"metadata": {}, "items": self._filesystems(vmi)})
