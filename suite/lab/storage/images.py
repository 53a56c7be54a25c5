"""Test images served over HTTP on loopback, as an import source for DataVolumes.

Each image has a known content (a pattern a test can recompute), so an import is checked
byte for byte. The raw image is generated; the qcow2 one is the same content converted
with qemu-img (a tool the image's author would use; the import side converts it back
through the data plane, as CDI's importer does).
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from ..context import LabContext

BLOCK = 4096
PATTERN_BLOCKS = 2048  # 8 MiB: small enough to import in a blink, big enough to matter


def pattern_bytes(blocks: int = PATTERN_BLOCKS) -> bytes:
    """Block i holds the line 'kvs-lab-image block <i>' repeated: every block differs."""
    out = bytearray()
    for i in range(blocks):
        line = f"kvs-lab-image block {i:08d}\n".encode()
        out += (line * (BLOCK // len(line) + 1))[:BLOCK]
    return bytes(out)


async def _qcow2_from(raw: Path, target: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        "qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(target),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"qemu-img convert failed: {err.decode().strip()}")


async def build_images(folder: Path) -> dict[str, dict[str, Any]]:
    """Write the images into `folder`; returns name -> facts (format, size, sha256)."""
    folder.mkdir(parents=True, exist_ok=True)
    content = pattern_bytes()
    digest = hashlib.sha256(content).hexdigest()
    raw = folder / "pattern.raw"
    raw.write_bytes(content)
    await _qcow2_from(raw, folder / "pattern.qcow2")
    facts = {"size": len(content), "sha256": digest, "pattern": "kvs-lab-image block"}
    return {"pattern.raw": {"format": "raw", **facts},
            "pattern.qcow2": {"format": "qcow2", **facts}}


class ImageServer:
    """aiohttp on 127.0.0.1:0 serving a folder (HEAD and Range work, as importers need)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_static("/images/", self.folder, show_index=True)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/images"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def start_image_server(ctx: LabContext) -> None:
    folder = Path(ctx.state_dir) / "images"
    catalogue = await build_images(folder)
    server = ImageServer(folder)
    url = await server.start()
    ctx.on_stop(server.stop)
    for name, facts in catalogue.items():
        facts["url"] = f"{url}/{name}"
    ctx.extras["image_server_url"] = url
    ctx.extras["images"] = catalogue
