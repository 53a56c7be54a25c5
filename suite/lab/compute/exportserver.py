"""The lab's export proxy: a real HTTPS download of an exported VM disk.

What virt-exportproxy and virt-exportserver do for a client outside the cluster: the
external link `/api/export.kubevirt.io/v1beta1/namespaces/NS/virtualmachineexports/
NAME/volumes/PVC/disk.img[.gz]` streams the volume's bytes (raw, or gzip-compressed),
only for a Ready export and only with the export's token in the
`x-kubevirt-export-token` header (or query parameter); a wrong token is 401.

Fault `export-serves-stale-data`: the class serves the disk as it was when it was
created (a new volume of the lab holds zeroes), not what the VM wrote since.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .export import EXPORT

if TYPE_CHECKING:
    from ..context import LabContext

TOKEN = "x-kubevirt-export-token"
FAULT = "export-serves-stale-data"
CHUNK = 1 << 20
ROUTE = ("/api/export.kubevirt.io/v1beta1/namespaces/{ns}/virtualmachineexports/{name}"
         "/volumes/{pvc}/{file}")


class ExportProxy:
    def __init__(self, ctx: LabContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.host = ""
        tls = Path(ctx.state_dir) / "tls"
        self.ca_pem = (tls / "ca.crt").read_text()
        self._tls = tls
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(ROUTE, self.download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self._tls / "server.crt"), str(self._tls / "server.key"))
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.host = f"127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def download(self, request: web.Request) -> web.StreamResponse:
        ns, name = request.match_info["ns"], request.match_info["name"]
        claim, file = request.match_info["pvc"], request.match_info["file"]
        export = self.store.try_get(EXPORT, ns, name)
        status = (export or {}).get("status") or {}
        if export is None or status.get("phase") != "Ready" or file not in (
                "disk.img", "disk.img.gz"):
            raise web.HTTPNotFound(text="404 page not found\n")
        given = request.headers.get(TOKEN) or request.query.get(TOKEN, "")
        if not given or given != self._token(ns, status.get("tokenSecretRef", "")):
            raise web.HTTPUnauthorized()
        names = {v["name"] for v in ((status.get("links") or {}).get("external") or {})
                 .get("volumes") or []}
        pvc = self.store.try_get("persistentvolumeclaims", ns, claim)
        if claim not in names or pvc is None:
            raise web.HTTPNotFound(text="404 page not found\n")
        path, stale = await self._source(pvc)
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await response.prepare(request)
        packer = zlib.compressobj(6, zlib.DEFLATED, 31) if file.endswith(".gz") else None
        for chunk in _chunks(path, stale):
            data = await chunk
            await response.write(packer.compress(data) if packer else data)
        if packer is not None:
            await response.write(packer.flush())
        await response.write_eof()
        return response

    def _token(self, ns: str, secret_name: str) -> str | None:
        secret = self.store.try_get("secrets", ns, secret_name) or {}
        if "token" in (secret.get("stringData") or {}):
            return str(secret["stringData"]["token"])
        encoded = (secret.get("data") or {}).get("token")
        return base64.b64decode(encoded).decode() if encoded else None

    async def _source(self, pvc: dict[str, Any]) -> tuple[Path, bool]:
        pv = self.store.try_get("persistentvolumes", None, pvc["spec"].get("volumeName") or "")
        if pv is None or self.ctx.dataplane is None:
            raise web.HTTPServiceUnavailable(text="volume not available\n")
        handle = pv["spec"]["csi"]["volumeHandle"]
        driver = next((d for d in self.ctx.drivers
                       if d.name == pvc["spec"].get("storageClassName")), None)
        stale = driver is not None and FAULT in tuple(getattr(driver, "faults", ()))
        return Path(await self.ctx.dataplane.export_path(handle)), stale


def _chunks(path: Path, stale: bool) -> Any:
    """Awaitables of the file's chunks (read off the event loop: it is a FUSE export)."""
    size = path.stat().st_size
    with path.open("rb") as source:
        offset = 0
        while offset < size:
            length = min(CHUNK, size - offset)
            if stale:
                yield _zeroes(length)
            else:
                yield asyncio.to_thread(source.read, length)
            offset += length


async def _zeroes(length: int) -> bytes:
    return bytes(length)
