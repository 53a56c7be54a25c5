"""Importing an image into a volume, as CDI's importer does, by writing through the export.

Writing through the export (never into `disk.raw`) is what makes encryption apply to
imported bytes. Raw images are streamed as they arrive; qcow2 images are first saved
and converted to raw with `qemu-img`, because qcow2 cannot be written out in order.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import aiohttp

from .errors import DataPlaneError
from .images import MiB, run_tool

QCOW2_MAGIC = b"QFI\xfb"
_CHUNK = 4 * MiB
Progress = Callable[[int, int | None], None]  # (bytes written, total bytes if known)


class ExportWriter:
    """Sequential writes into a volume's export, refusing to run past its end."""

    def __init__(self, export: Path, size: int, name: str,
                 progress: Progress | None = None) -> None:
        self.export, self.size, self.name = export, size, name
        self.offset = 0
        self.total: int | None = None
        self._progress = progress
        self._fd = -1

    def __enter__(self) -> ExportWriter:
        self._fd = os.open(self.export, os.O_WRONLY)  # never O_TRUNC: the size is fixed
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                os.fsync(self._fd)  # the import is complete only once the daemon has it
        finally:
            os.close(self._fd)

    def expect(self, total: int | None) -> None:
        """Fail before writing anything when the image is known to be too big."""
        self.total = total
        if total is not None and total > self.size:
            raise DataPlaneError(f"volume {self.name}: image of {total} bytes does not fit "
                                 f"in {self.size} bytes")

    async def write(self, data: bytes) -> None:
        if self.offset + len(data) > self.size:
            raise DataPlaneError(f"volume {self.name}: image is larger than the volume's "
                                 f"{self.size} bytes")
        await asyncio.to_thread(os.pwrite, self._fd, data, self.offset)
        self.offset += len(data)
        if self._progress is not None:
            self._progress(self.offset, self.total)


async def copy_file(source: Path, writer: ExportWriter) -> None:
    """Write a raw file into the export from its start."""
    writer.expect(source.stat().st_size)
    with open(source, "rb") as image:
        while chunk := await asyncio.to_thread(image.read, _CHUNK):
            await writer.write(chunk)


async def import_file(path: Path, writer: ExportWriter, scratch: Path) -> None:
    """Import a local raw or qcow2 image."""
    if not path.is_file():
        raise DataPlaneError(f"volume {writer.name}: image file {path} does not exist")
    with open(path, "rb") as image:
        magic = image.read(4)
    if magic != QCOW2_MAGIC:
        await copy_file(path, writer)
        return
    try:
        await run_tool(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", str(path),
                        str(scratch)])
        await copy_file(scratch, writer)
    finally:
        scratch.unlink(missing_ok=True)


async def import_url(url: str, writer: ExportWriter, scratch: Path) -> None:
    """Import from http(s): stream raw images, save then convert qcow2 ones."""
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=60)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, \
                session.get(url) as response:
            if response.status != 200:
                raise DataPlaneError(f"volume {writer.name}: GET {url} answered "
                                     f"HTTP {response.status}")
            await _receive(response, writer, scratch)
    except aiohttp.ClientError as error:
        raise DataPlaneError(f"volume {writer.name}: GET {url} failed: {error}") from error


async def _receive(response: aiohttp.ClientResponse, writer: ExportWriter,
                   scratch: Path) -> None:
    first = await response.content.read(4)
    if first == QCOW2_MAGIC:
        saved = scratch.with_suffix(".qcow2")
        try:
            await _save(first, response, saved)
            await import_file(saved, writer, scratch)
        finally:
            saved.unlink(missing_ok=True)
        return
    writer.expect(response.content_length)
    buffer = bytearray(first)
    async for chunk in response.content.iter_chunked(MiB):
        buffer += chunk
        if len(buffer) >= _CHUNK:
            await writer.write(bytes(buffer))
            buffer.clear()
    if buffer:
        await writer.write(bytes(buffer))


async def _save(first: bytes, response: aiohttp.ClientResponse, path: Path) -> None:
    with open(path, "wb") as saved:
        saved.write(first)
        async for chunk in response.content.iter_chunked(MiB):
            await asyncio.to_thread(saved.write, chunk)
