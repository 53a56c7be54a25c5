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
        enter = ("nsenter", "--target", str(pid), "--mount", "--root", "--wd", "--", *command)
        if request.query.get("tty", "").lower() in ("true", "1"):
            await self._with_tty(ws, enter, command)
            return ws
        process = await asyncio.create_subprocess_exec(
            *enter, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True)
        try:
            code = await self._stream(ws, process)
            await ws.send_bytes(b"\x03" + json.dumps(exit_status(command, code)).encode())
        finally:
            await end_session(process)
            await ws.close()
        return ws

    async def _with_tty(self, ws: web.WebSocketResponse, enter: tuple[str, ...],
                        command: list[str]) -> None:
        """A terminal session: one PTY, everything on channel 1, as the kubelet does."""
        master, slave = os.openpty()
        process = await asyncio.create_subprocess_exec(
            *enter, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
        os.close(slave)
        os.set_blocking(master, False)
        output: asyncio.Queue[bytes] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        loop.add_reader(master, _pty_reader(master, output))
        feeder = asyncio.ensure_future(self._feed_pty(ws, master))
        try:
            while data := await output.get():
                await ws.send_bytes(b"\x01" + data)
            code = await process.wait()
            await ws.send_bytes(b"\x03" + json.dumps(exit_status(command, code)).encode())
        finally:
            loop.remove_reader(master)
            feeder.cancel()
            await end_session(process)
            os.close(master)
            await ws.close()

    @staticmethod
    async def _feed_pty(ws: web.WebSocketResponse, master: int) -> None:
        async for message in ws:
            data = message.data if isinstance(message.data, bytes) else str(message.data).encode()
            if data[:1] == b"\x00" and len(data) > 1:
                with contextlib.suppress(OSError):
                    os.write(master, data[1:])

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


def _pty_reader(master: int, output: asyncio.Queue[bytes]) -> Any:
    """A reader callback: queue what the terminal gives; b"" once the command is gone."""
    def read() -> None:
        try:
            data = os.read(master, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: the last process holding the terminal has ended
            data = b""
        output.put_nowait(data)
        if not data:
            asyncio.get_running_loop().remove_reader(master)
    return read


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
