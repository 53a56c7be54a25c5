"""state.persistent: a VM's persistent EFI state kept on this class survives a restart.

A VM with a persistent vTPM and persistent EFI gets KubeVirt's backend-storage claim
`persistent-state-for-<vm>` (ReadWriteMany, see docs/vm-features.md). Without a
cluster-wide `vmStateStorageClass`, KubeVirt puts it on the class (and volume mode) of
the VM's first disk's claim, so the check gives the VM a ReadWriteMany data disk of this
class as its first claim, and does not touch the cluster's configuration (other classes
are assessed at the same time). The guest stores an EFI variable, the VM stops and
starts, and the variable must still be there. A class without a ReadWriteMany volume
cannot hold the state (`unsupported`); so does a cluster without the
`VMPersistentState` gate.
"""

from __future__ import annotations

import secrets
import time

from suite.checks.base import Cell, ClassContext, Outcome
from suite.checks.failures import STEP_ERRORS, outcome_of
from suite.cluster.errors import WaitTimeout
from suite.cluster.waits import poll_until
from suite.guest.probe import ProbeError, parse_fields
from suite.vm import claims
from suite.vm.acquire import data_disk, start_and_wait
from suite.vm.guestvm import GuestVM, guest_spec
from suite.vm.manifests import virtual_machine
from suite.vm.userdata import ensure_secret

GATE = "VMPersistentState"
PREFIX = "persistent-state-for-"
VARIABLE = "KvsProbeState"
MISSING = 3  # the probe's status for a missing store or variable
STORE_WAIT_S = 60.0
STORE_POLL_S = 1.0


class StatefulVM(GuestVM):
    """A GuestVM whose template asks for a persistent vTPM and persistent EFI."""

    def create(self, running: bool = True) -> None:
        spec = guest_spec(self.ctx)
        secret = ensure_secret(self.ctx, spec)
        manifest = virtual_machine(self.name, self.ctx.namespace, spec, self.disks,
                                   user_data_secret=secret, running=running)
        domain = manifest["spec"]["template"]["spec"]["domain"]
        domain.setdefault("devices", {})["tpm"] = {"persistent": True}
        domain["firmware"] = {"bootloader": {"efi": {"persistent": True,
                                                     "secureBoot": False}}}
        self.kube.create(manifest)
        self.created_at = time.monotonic()


def gate_off(ctx: ClassContext) -> bool:
    virt = ctx.facts.get("virtualization") or {}
    gates = virt.get("kubevirtFeatureGates")
    return bool(virt.get("kubevirtVersion")) and isinstance(gates, list) and GATE not in gates


def assess(ctx: ClassContext) -> list[Outcome]:
    cell = Cell("state.persistent")
    if gate_off(ctx):
        return [cell.done("unsupported", f"KubeVirt's {GATE} feature gate is off: VMs cannot "
                          "keep a persistent vTPM or EFI state")]
    vm, attempts, kinds = _boot(ctx)
    if vm is None:
        cell.evidence["attempts"] = attempts
        detail = "; ".join(attempts.values()) or "no ReadWriteMany mode to try"
        if kinds <= {"refused"}:
            return [cell.done("unsupported", "KubeVirt keeps persistent VM state on a "
                              f"ReadWriteMany claim; the class offers none ({detail})")]
        verdict = "inconclusive" if "failed" in kinds else "skipped"
        return [cell.done(verdict, f"no ReadWriteMany volume could be provisioned ({detail})")]
    try:
        return [_persist(ctx, cell, vm)]
    except STEP_ERRORS as error:
        return [outcome_of(cell, error)]
    finally:
        vm.delete()


def _boot(ctx: ClassContext) -> tuple[StatefulVM | None, dict[str, str], set[str]]:
    attempts: dict[str, str] = {}
    kinds: set[str] = set()
    for (mode, acc), finding in ctx.memo.findings().items():
        if acc == "ReadWriteMany" and finding.status in ("refused", "hung"):
            attempts[f"{mode}/{acc}"] = f"{finding.status} earlier: {finding.message}"
            kinds.add(finding.status)
    for mode, acc in ctx.memo.candidates(ctx.facts,
                                     access=("ReadWriteMany",)):
        vm = StatefulVM(ctx, "state", [])
        vm.disks = [data_disk(ctx, vm.name, mode, acc)]
        ctx.progress(f"state: starting VM {vm.name} (persistent vTPM and EFI) with a "
                     f"{mode}/{acc} disk")
        if start_and_wait(ctx, vm, mode, acc, attempts, kinds):
            return vm, attempts, kinds
    return None, attempts, kinds


def _persist(ctx: ClassContext, cell: Cell, vm: StatefulVM) -> Outcome:
    name = PREFIX + vm.name
    try:
        claim = ctx.kube.wait_for("v1", "PersistentVolumeClaim", name,
                                  lambda c: claims.phase(c) == "Bound",
                                  ctx.profile.timeouts.bind_s, f"state claim {name} to bind",
                                  ctx.namespace)
    except WaitTimeout as timeout:
        return cell.done("broken", f"the VM's state claim {name} did not bind: "
                         f"{claims.phase(timeout.last) or 'not created'}")
    spec = claim.get("spec") or {}
    cell.evidence.update(vm=vm.name, stateClaim=name,
                         stateClass=spec.get("storageClassName"),
                         stateMode=f"{spec.get('volumeMode')}/"
                                   f"{','.join(spec.get('accessModes') or [])}")
    value = secrets.token_hex(8)
    _efivar(vm, "efivar-write", VARIABLE, value)
    vm.stop()
    vm.start()
    read = _efivar(vm, "efivar-read", VARIABLE)
    cell.evidence.update(wrote=value, readBack=read)
    if read is None:
        return cell.done("broken", f"the EFI variable written before a restart is gone "
                         f"(state claim {name} on {spec.get('storageClassName')})")
    if read != value:
        return cell.done("broken", f"the EFI variable came back changed ({read!r} instead of "
                         f"{value!r})")
    return cell.done("supported", f"persistent EFI state on {name} "
                     f"({cell.evidence['stateMode']}) survived a restart")


def _efivar(vm: GuestVM, verb: str, *args: str) -> str | None:
    """Run an efivar verb; waits for the variable store (it comes with the state volume).
    Returns the value read (None when the variable is missing)."""
    def attempt() -> tuple[bool, str | None, ProbeError | None]:
        """(answered, value, the probe's 'missing' error while not answered)."""
        try:
            line = vm.probe.call(verb, *args).strip().splitlines()[-1]
            return True, str(parse_fields(line).get("value", "")), None
        except ProbeError as error:
            if error.code != MISSING:
                raise
            if "store" not in error.reason and verb == "efivar-read":
                return True, None, None  # the store is there, the variable is not
            return False, None, error

    answered, value, missing = poll_until(
        attempt, lambda got: got[0], timeout_s=STORE_WAIT_S, interval_s=STORE_POLL_S,
        what=f"the EFI variable store of {vm.name}", cancel=vm.ctx.cancelled,
        last_on_timeout=True)
    if answered or verb == "efivar-read":
        return value
    assert missing is not None
    raise missing

