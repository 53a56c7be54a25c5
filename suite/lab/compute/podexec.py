"""The pod `exec` and `log` subresources.

exec speaks the kubelet's websocket stream protocol as `kubernetes.stream.stream` expects
it: subprotocol v4.channel.k8s.io (or channel.k8s.io), binary frames whose first byte is
the channel (0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize), and on channel 3 a final
metav1.Status: Success, or Failure with reason NonZeroExitCode and the exit code as the
first cause. The command runs inside the container's mount namespace and root (nsenter).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from typing import Any

from aiohttp import WSMsgType, web

from ..errors import ApiError
from .pods import PodRuntime
from .procs import end_session

PROTOCOLS = ("v4.channel.k8s.io", "channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io")


def exit_status(command: list[str], code: int) -> dict[str, Any]:
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command "
                       f"[{' '.join(command)}], exit code {code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


class ExecHandler:
    def __init__(self, pods: PodRuntime) -> None:
        self.pods = pods

    def _target(self, request: web.Request, namespace: str, name: str) -> tuple[int, list[str]]:
        pod = self.pods.store.try_get("pods", namespace, name)
        if pod is None:
            raise ApiError(404, "NotFound", f'pods "{name}" not found')
        command = request.query.getall("command", [])
        if not command:
            raise ApiError(400, "BadRequest", "you must specify at least 1 command")
        container = request.query.get("container")
        pid = self.pods.pid_of(namespace, name, container)
        if pid is None:
            raise ApiError(400, "BadRequest", "container not found "
                           f'("{container or pod["spec"]["containers"][0]["name"]}")')
        return pid, command

    async def __call__(self, request: web.Request, namespace: str | None,
                       name: str) -> web.StreamResponse:
        pid, command = self._target(request, namespace or "", name)
        ws = web.WebSocketResponse(protocols=PROTOCOLS, heartbeat=None)
        await ws.prepare(request)
        process = await asyncio.create_subprocess_exec(
            "nsenter", "--target", str(pid), "--mount", "--root", "--wd", "--", *command,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True)
        try:
            code = await self._stream(ws, process)
            await ws.send_bytes(b"\x03" + json.dumps(exit_status(command, code)).encode())
        finally:
            await end_session(process)
            await ws.close()
        return ws

    async def _stream(self, ws: web.WebSocketResponse,
                      process: asyncio.subprocess.Process) -> int:
        assert process.stdout and process.stderr
        pumps = [asyncio.ensure_future(self._pump(ws, process.stdout, 1)),
                 asyncio.ensure_future(self._pump(ws, process.stderr, 2))]
        feeder = asyncio.ensure_future(self._feed(ws, process))
        await asyncio.gather(*pumps)
        code = await process.wait()
        feeder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feeder
        return code

    @staticmethod
    async def _pump(ws: web.WebSocketResponse, stream: asyncio.StreamReader,
                    channel: int) -> None:
        while data := await stream.read(65536):
            await ws.send_bytes(bytes([channel]) + data)

    @staticmethod
    async def _feed(ws: web.WebSocketResponse, process: asyncio.subprocess.Process) -> None:
        assert process.stdin
        async for message in ws:
            if message.type not in (WSMsgType.BINARY, WSMsgType.TEXT):
                break
            data = message.data if isinstance(message.data, bytes) else message.data.encode()
            if data[:1] == b"\x00" and len(data) > 1:
                with contextlib.suppress(ConnectionError):
                    process.stdin.write(data[1:])
                    await process.stdin.drain()
        with contextlib.suppress(ConnectionError, OSError):
            process.stdin.close()


class LogHandler:
    def __init__(self, pods: PodRuntime) -> None:
        self.pods = pods

    async def __call__(self, request: web.Request, namespace: str | None,
                       name: str) -> web.StreamResponse:
        if self.pods.store.try_get("pods", namespace or "", name) is None:
            raise ApiError(404, "NotFound", f'pods "{name}" not found')
        path = self.pods.log_path(namespace or "", name, request.query.get("container"))
        text = path.read_bytes() if path is not None and os.path.exists(path) else b""
        return web.Response(body=text, content_type="text/plain")
