"""export.vm: a VirtualMachineExport of a stopped VM serves the bytes the guest wrote.

What a backup product does: the guest writes a seeded range on a data disk of the class,
the VM stops (KubeVirt exports only a VM that is not running), a VirtualMachineExport
(export.kubevirt.io/v1beta1) is created, and once Ready the disk is downloaded from its
external link, raw and gzip, with the token from the export's Secret in the
`x-kubevirt-export-token` header. Both downloads must hold the guest's bytes; other
bytes are `broken`. KubeVirt refusing the export (`VMExport` gate off) is `unsupported`;
an export with no external link (no Route or Ingress to the export proxy) cannot be
downloaded from outside the cluster and is `inconclusive`.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
import urllib.error
import urllib.request
import zlib
from typing import Any

from suite.checks.base import Cell, ClassContext, Outcome
from suite.checks.failures import STEP_ERRORS, outcome_of
from suite.checks.gates import gate_off, gate_off_reason
from suite.cluster.errors import KubeError, WaitTimeout
from suite.guest.pattern import zero_sha256
from suite.vm.acquire import boot_any
from suite.vm.errors import NoVolume
from suite.vm.guestvm import GuestVM
from suite.vm.manifests import DataDisk

EXPORT_API = "export.kubevirt.io/v1beta1"
GATE = "VMExport"
TOKEN_HEADER = "x-kubevirt-export-token"
DATA_BYTES = 4 << 20
CHUNK = 1 << 20
DOWNLOAD_TIMEOUT_S = 120.0


class Refused(Exception):
    """KubeVirt refused to create the export (admission) or does not serve the API."""



def assess(ctx: ClassContext) -> list[Outcome]:
    cell = Cell("export.vm")
    if gate_off(ctx, GATE):
        return [cell.done("unsupported", gate_off_reason(GATE, "VMs cannot be exported"))]
    try:
        vm, disk = boot_any(ctx, "export")
    except NoVolume as error:
        return [outcome_of(cell, error)]
    try:
        return [_export(ctx, cell, vm, disk)]
    except Refused as refusal:
        return [cell.done("unsupported", f"KubeVirt refused the export: {refusal}")]
    except (*STEP_ERRORS, OSError) as error:  # OSError: the download itself
        return [outcome_of(cell, error)]
    finally:
        vm.delete()


def _export(ctx: ClassContext, cell: Cell, vm: GuestVM, disk: DataDisk) -> Outcome:
    sha = vm.probe.write(disk.serial, 0, DATA_BYTES, f"export-{vm.name}")
    vm.stop()
    name = f"{vm.name}-export"
    ctx.progress(f"export: exporting stopped VM {vm.name}")
    try:
        ctx.kube.create({"apiVersion": EXPORT_API, "kind": "VirtualMachineExport",
                         "metadata": {"name": name, "namespace": ctx.namespace},
                         "spec": {"source": {"apiGroup": "kubevirt.io",
                                             "kind": "VirtualMachine", "name": vm.name}}})
    except KubeError as error:
        if error.status in (400, 404, 422):
            raise Refused(error.message) from error
        raise
    try:
        exported = ctx.kube.wait_for(EXPORT_API, "VirtualMachineExport", name,
                                     lambda e: (e.get("status") or {}).get("phase") == "Ready",
                                     ctx.profile.timeouts.bind_s, f"export {name} to be Ready",
                                     ctx.namespace)
    except WaitTimeout as timeout:
        ready = _ready_condition(timeout.last)
        return cell.done("broken", f"export not Ready after {ctx.profile.timeouts.bind_s:.0f}s "
                         f"({ready.get('reason', 'no reason')}: {ready.get('message', '')})")
    status = exported["status"]
    external = (status.get("links") or {}).get("external") or {}
    volume = next((v for v in external.get("volumes") or []
                   if v.get("name") == disk.claim_name), None)
    cell.evidence.update(vm=vm.name, export=name, claim=disk.claim_name, guestSha256=sha)
    if volume is None:
        return cell.done("inconclusive", "the export has no external link for the disk (no "
                         "Route or Ingress to KubeVirt's export proxy): cannot download it "
                         "from outside the cluster")
    urls = {f.get("format"): f.get("url") for f in volume.get("formats") or []}
    token = _token(ctx, status.get("tokenSecretRef", ""))
    context = ssl.create_default_context(cadata=external.get("cert") or None)
    got = {}
    for form in ("raw", "gzip"):
        if not urls.get(form):
            return cell.done("broken", f"the export offers no {form} link for the disk")
        got[form] = _download(urls[form], token, context, gzipped=form == "gzip")
    cell.evidence.update(rawSha256=got["raw"], gzipSha256=got["gzip"])
    return _judge(cell, sha, got)


def _judge(cell: Cell, sha: str, got: dict[str, str]) -> Outcome:
    wrong = [form for form, read in got.items() if read != sha]
    if not wrong:
        return cell.done("supported", f"exported disk downloaded raw and gzip with the token; "
                         f"{DATA_BYTES >> 20} MiB match what the guest wrote")
    if all(got[form] == zero_sha256(DATA_BYTES) for form in wrong):
        return cell.done("broken", f"the export serves the disk as it was created (zeroes) "
                         f"instead of what the guest wrote ({', '.join(wrong)})")
    return cell.done("broken", f"the exported disk differs from what the guest wrote "
                     f"({', '.join(wrong)}: {got[wrong[0]][:12]} vs {sha[:12]})")


def _ready_condition(export: dict[str, Any] | None) -> dict[str, Any]:
    conditions = ((export or {}).get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "Ready"), {})


def _token(ctx: ClassContext, secret: str) -> str:
    data = (ctx.kube.get("v1", "Secret", secret, ctx.namespace).get("data") or {})
    return base64.b64decode(data.get("token", "")).decode()


def _download(url: str, token: str, context: ssl.SSLContext, gzipped: bool) -> str:
    """sha256 of the first DATA_BYTES of the disk the URL serves."""
    request = urllib.request.Request(url, headers={TOKEN_HEADER: token})
    digest, left = hashlib.sha256(), DATA_BYTES
    unpack = zlib.decompressobj(31) if gzipped else None
    try:
        with urllib.request.urlopen(request, context=context,
                                    timeout=DOWNLOAD_TIMEOUT_S) as reply:
            while left > 0:
                chunk = reply.read(CHUNK)
                if not chunk:
                    break
                data = unpack.decompress(chunk) if unpack else chunk
                digest.update(data[:left])
                left -= min(left, len(data))
    except urllib.error.HTTPError as error:
        raise OSError(f"download of {url} answered {error.code} {error.reason}") from error
    if left > 0:
        raise OSError(f"download of {url} ended {left} bytes short of {DATA_BYTES}")
    return digest.hexdigest()
