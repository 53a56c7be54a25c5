"""The VMI `console` subresource: a websocket of raw serial bytes (plain.kubevirt.io).

As in virt-handler, one client at a time: a new connection closes the previous one.
Bytes go both ways in binary frames; text frames from a client are accepted too.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import WSMsgType, web

from ..errors import ApiError
from .runtime import Compute
from .vm import VMI

PROTOCOL = "plain.kubevirt.io"


def _conflict(name: str, message: str) -> ApiError:
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on '
                    f'virtualmachineinstance.kubevirt.io "{name}": {message}')


class ConsoleHandler:
    def __init__(self, compute: Compute) -> None:
        self.compute = compute

    def _guest(self, namespace: str, name: str) -> Any:
        vmi = self.compute.store.try_get(VMI, namespace, name)
        if vmi is None:
            raise ApiError(404, "NotFound",
                           f'virtualmachineinstance.kubevirt.io "{name}" not found')
        devices = vmi["spec"].get("domain", {}).get("devices", {})
        if devices.get("autoattachSerialConsole") is False:
            raise ApiError(400, "BadRequest", "No serial consoles are present.")
        phase = vmi.get("status", {}).get("phase")
        if phase == "Failed":
            raise _conflict(name, "VMI is in failed status")
        guest = self.compute.guests.get(vmi["metadata"]["uid"])
        if phase != "Running" or guest is None or not guest.alive:
            raise ApiError(400, "BadRequest", "VMI is not running")
        return guest

    async def __call__(self, request: web.Request, namespace: str | None,
                       name: str) -> web.StreamResponse:
        guest = self._guest(namespace or "", name)
        ws = web.WebSocketResponse(protocols=(PROTOCOL,), max_msg_size=0, heartbeat=None)
        await ws.prepare(request)
        outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        guest.attach(outbox.put_nowait, lambda: outbox.put_nowait(None))
        pump = asyncio.get_running_loop().create_task(self._pump(ws, outbox))
        try:
            async for message in ws:
                if message.type == WSMsgType.BINARY:
                    await guest.send(message.data)
                elif message.type == WSMsgType.TEXT:
                    await guest.send(message.data.encode())
                else:
                    break
        finally:
            guest.detach(outbox.put_nowait)
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
            await ws.close()
        return ws

    @staticmethod
    async def _pump(ws: web.WebSocketResponse, outbox: asyncio.Queue[bytes | None]) -> None:
        while True:
            data = await outbox.get()
            if data is None:  # replaced by a newer connection, or the guest stopped
                await ws.close()
                return
            await ws.send_bytes(data)
