"""encryption.at-rest: declared by the class, and the guest's bytes absent below it.

Whether the class declares it is discovery's word (`suite.cluster.declared`: ceph-csi
`encrypted`, AWS `encrypted` + `kmsKeyId`, Azure `diskEncryptionSetID`, GCP
`disk-encryption-kms-key`, Portworx `secure`, ...), the same the matrix prints. A
declared class is verified from the node: the guest writes a unique marker, and a
privileged pod looks for it on the raw device below the dm-crypt mapping. Found
there = plaintext at rest = `broken`. That pod is opt-in on real clusters (profile
`node_checks.privileged_pods`), so without it the cell is `inconclusive` and says
how to enable it.
"""

from __future__ import annotations

import secrets

from suite.checks.base import Cell, ClassContext, Outcome
from suite.checks.failures import STEP_ERRORS, outcome_of
from suite.cluster.declared import declarations, encryption_parameters
from suite.cluster.errors import Forbidden, Invalid
from suite.vm import claims, nodecheck
from suite.vm.acquire import boot_any, release
from suite.vm.errors import NoVolume
from suite.vm.guestvm import GuestVM
from suite.vm.manifests import DataDisk

MARKER_BYTES = 4 << 20
SCAN_SLACK_BYTES = 64 << 20  # room for an encryption header in front of the data


def declared(parameters: dict[str, str]) -> dict[str, str]:
    """The parameters by which a class declares encryption at rest (discovery's rule)."""
    return encryption_parameters(parameters)


def assess(ctx: ClassContext) -> list[Outcome]:
    cell = Cell("encryption.at-rest")
    declaration = dict(declarations(ctx.facts).encryption_by)
    cell.evidence["declaredBy"] = declaration
    if not declaration:
        return [cell.done("unsupported", "class does not declare encryption at rest")]
    if not ctx.profile.node_checks.privileged_pods:
        return [cell.done("inconclusive", "encryption is declared but checking it needs a "
                          "privileged pod on the node; set node_checks.privileged_pods: true "
                          "in the profile to allow it")]
    if ctx.facts.get("nodeChecksDenied"):  # the preflight found its RBAC missing
        return [cell.done("inconclusive", "encryption is declared but "
                          f"{ctx.facts['nodeChecksDenied']}")]
    try:
        vm, disk = boot_any(ctx, "crypt")
    except NoVolume as error:
        return [outcome_of(cell, error)]
    try:
        outcome = _verify(ctx, cell, vm, disk)
    except (Forbidden, Invalid) as refused:
        vm.delete()
        return [cell.done("inconclusive", f"the privileged node pod was refused: "
                          f"{refused.message}; allow privileged pods in the run namespace")]
    except STEP_ERRORS as error:
        vm.delete()
        return [outcome_of(cell, error)]
    release(ctx, vm)  # the node check left the VM as it was
    return [outcome]


def _verify(ctx: ClassContext, cell: Cell, vm: GuestVM, disk: DataDisk) -> Outcome:
    marker = f"KVSMARK{secrets.token_hex(8)}"
    sha = vm.probe.marker_write(disk.serial, 0, MARKER_BYTES, marker)
    readable = vm.probe.checksum(disk.serial, 0, MARKER_BYTES) == sha
    claim = claims.get_claim(ctx.kube, disk.claim_name, ctx.namespace) or {}
    pv, handle = claims.volume_handle(ctx.kube, claim)
    node = vm.node()
    cell.evidence.update(vm=vm.name, node=node, persistentVolume=pv, volumeHandle=handle,
                         marker=marker, markerReadableInGuest=readable)
    if not readable:
        return cell.done("inconclusive", "the marker did not read back inside the guest")
    ctx.progress(f"encryption: inspecting node {node} below volume {handle}")
    found = nodecheck.inspect_node(ctx, node, handle, marker, ctx.profile.timeouts.boot_s,
                                   _scan_bytes(disk))
    cell.evidence["node"] = {"node": node, **found}
    return _judge(cell, found, handle, node)


def _scan_bytes(disk: DataDisk) -> int:
    """A Block disk keeps the marker at the guest's offset 0, i.e. right after the LUKS
    header (16 MiB for LUKS2), so the start of each device is enough; a Filesystem disk
    stores it in disk.img wherever the filesystem put it, so all of it is searched."""
    return MARKER_BYTES + SCAN_SLACK_BYTES if disk.volume_mode == "Block" else 0


def _judge(cell: Cell, found: dict[str, str], handle: str, node: str) -> Outcome:
    if found.get("dm", "none") == "none":
        return cell.done("inconclusive", f"no device-mapper device for volume {handle} on "
                         f"{node}: encryption is not done on the node (provider-side?); "
                         "verify it with the storage vendor's tools")
    raw = f"/dev/{found.get('raw', '?')}"
    if found.get("rawMarker") == "found":
        return cell.done("broken", f"the guest's marker is readable in plaintext on {raw}, "
                         f"below {found['dm']} ({found.get('dmName')})")
    is_crypt = found.get("dmUuid", "").startswith("CRYPT-")
    if found.get("rawMarker") == "absent" and found.get("dmMarker") == "found" and is_crypt:
        return cell.done("supported", f"marker visible only above dm-crypt {found['dm']} "
                         f"({found.get('dmUuid', '')[:24]}...); absent from raw {raw}")
    return cell.done("inconclusive", f"could not tell: raw marker {found.get('rawMarker')}, "
                     f"decrypted marker {found.get('dmMarker')}, dm uuid "
                     f"{found.get('dmUuid') or 'unknown'}")
