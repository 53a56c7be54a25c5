"""A small asyncio client for the QEMU Machine Protocol on a unix socket.

Each daemon is steered through its monitor (resize, quit; a limited class's daemon
also gets its volumes added and removed this way), so the data plane needs the
protocol's three steps: read the greeting, negotiate capabilities, then run
commands one at a time. Asynchronous events are skipped: nothing here waits on them.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from .errors import DataPlaneError, QmpError

_LINE_LIMIT = 1 << 20  # query replies can be long; the default 64 KiB is too tight


class QmpClient:
    """One connection to one daemon's monitor; commands are serialised by a lock."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._lock = asyncio.Lock()
        self._next_id = 0
        self.greeting: dict[str, Any] = {}

    @classmethod
    async def connect(cls, socket_path: Path) -> QmpClient:
        """Connect, read the greeting and leave capabilities negotiation mode."""
        reader, writer = await asyncio.open_unix_connection(str(socket_path), limit=_LINE_LIMIT)
        client = cls(reader, writer)
        client.greeting = await client._read_message()
        if "QMP" not in client.greeting:
            client.close()
            raise DataPlaneError(f"{socket_path}: not a QMP monitor: {client.greeting}")
        await client.execute("qmp_capabilities")
        return client

    async def execute(self, command: str, arguments: dict[str, Any] | None = None) -> Any:
        """Run one command and return its `return` value; an `error` raises QmpError."""
        async with self._lock:
            self._next_id += 1
            request: dict[str, Any] = {"execute": command, "id": self._next_id}
            if arguments:
                request["arguments"] = arguments
            self._writer.write(json.dumps(request).encode() + b"\n")
            await self._writer.drain()
            return await self._reply_to(command, self._next_id)

    async def _reply_to(self, command: str, request_id: int) -> Any:
        while True:
            message = await self._read_message()
            if "event" in message or message.get("id") != request_id:
                continue
            if "error" in message:
                error = message["error"]
                raise QmpError(command, error.get("class", "?"), error.get("desc", ""))
            return message.get("return")

    async def _read_message(self) -> dict[str, Any]:
        line = await self._reader.readline()
        if not line:
            raise DataPlaneError("QMP monitor closed the connection")
        message: dict[str, Any] = json.loads(line)
        return message

    def close(self) -> None:
        self._writer.close()
