"""One VM a check drives: create it, wait until it runs, log in, stop, start, delete.

Waiting is where storage problems show, so `wait_ready` sorts what it sees into the
three answers a check needs: the driver refused the claim (`refused`), the claim was
accepted and never bound (`hung`), or the VM failed for another reason (`failed`).
Everything the guest does goes through the console session and the probe.
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from suite.cluster.errors import Cancelled, Conflict, NotFound
from suite.cluster.waits import poll_until
from suite.guest.console import ConsoleError, ConsoleSession, ConsoleTimeout, Credentials
from suite.guest.probe import GUEST_PATH, Probe
from suite.vm import claims
from suite.vm.errors import BootFailure
from suite.vm.manifests import CDI_API, VM_API, DataDisk, GuestSpec, virtual_machine
from suite.vm.naming import unique_name
from suite.vm.userdata import ensure_secret

if TYPE_CHECKING:
    from suite.checks.base import ClassContext

POLL_S = 1.0  # the claims, VM and VMI while a VM boots
PROBE_POLL_S = 2.0  # `test -x` of the probe in the guest, while cloud-init writes it
WRITER_POLL_S = 0.5  # the guest's background writer's block count
# printableStatus values KubeVirt also shows while it retries (scheduler backoff after a
# late bind, CDI restarting an importer, kubelet pull retries): they decide only when
# they persist (`persist_s`), never at first sight.
VM_ERRORS = ("ErrorUnschedulable", "DataVolumeError", "ErrImagePull", "ImagePullBackOff",
             "CrashLoopBackOff", "ErrorPvcNotFound")
PERSIST_MAX_S = 120.0
PROBE_WAIT_S = 120.0
PROGRESS_EVERY_S = 30.0


@dataclass(frozen=True)
class GuestTools:
    """What the first login of a class saw of the guest image (``ctx.guest_tools``)."""

    fio: bool
    libaio: bool  # fio's libaio engine loads (False without fio)
    cloud_init: str  # `cloud-init status` after the wait, e.g. done / error


def guest_spec(ctx: ClassContext) -> GuestSpec:
    guest = ctx.profile.guest
    return GuestSpec(guest.image, guest.user, guest.password, guest.memory, guest.cpu_cores,
                     tuple(guest.packages))


def persist_s(boot_s: float) -> float:
    """How long a transient VM status must last before it decides: half the boot
    timeout, at most two minutes (long enough for a scheduler or pull backoff)."""
    return min(PERSIST_MAX_S, boot_s / 2)


class GuestVM:
    def __init__(self, ctx: ClassContext, role: str, disks: list[DataDisk]) -> None:
        self.ctx, self.disks = ctx, disks
        self.name = unique_name(ctx.storage_class, role)
        self.session: ConsoleSession | None = None
        self._probe: Probe | None = None
        self.created_at = 0.0
        self.pooled = False  # handed to suite.vm.pool at least once
        self.cloud_init = ""  # `cloud-init status` after the wait, e.g. done / error
        self._status_since: tuple[str, float] = ("", 0.0)

    @property
    def kube(self) -> Any:
        return self.ctx.kube

    @property
    def timeouts(self) -> Any:
        return self.ctx.profile.timeouts

    # -- lifecycle ------------------------------------------------------------------

    def create(self, running: bool = True) -> None:
        spec = guest_spec(self.ctx)
        secret = ensure_secret(self.ctx, spec)  # before the VM: admission wants it there
        manifest = virtual_machine(self.name, self.ctx.namespace, spec, self.disks,
                                   user_data_secret=secret, running=running)
        self.kube.create(manifest)
        self.created_at = time.monotonic()

    def wait_ready(self, bind_timeout_s: float | None = None) -> float:
        """Block until the VMI runs; returns seconds since create. Raises BootFailure
        (also when the run is cancelled: the VM counts as not booted)."""
        bind_deadline = self.created_at + (bind_timeout_s or self.timeouts.bind_s)
        self._status_since = ("", 0.0)
        boot_deadline: float | None = None
        told = time.monotonic()

        def running() -> bool:
            nonlocal told, boot_deadline
            if time.monotonic() - told > PROGRESS_EVERY_S:
                told = time.monotonic()
                self.ctx.progress(f"still waiting for VM {self.name} "
                                  f"({told - self.created_at:.0f}s)")
            if self._pending_claims(bind_deadline):
                return False
            boot_deadline = boot_deadline or time.monotonic() + self.timeouts.boot_s
            return self._vmi_running(boot_deadline)

        try:  # the bind and boot deadlines raise BootFailure from inside the sample
            poll_until(running, bool, timeout_s=None, interval_s=POLL_S,
                       what=f"VM {self.name} to run", cancel=self.ctx.cancelled)
        except Cancelled:
            raise BootFailure("failed", "run cancelled", {"vm": self.name}) from None
        return time.monotonic() - self.created_at

    def await_blocks(self, serial: str, wanted: int, timeout_s: float) -> int:
        """Blocks the guest's background writer on `serial` has written, once it reached
        `wanted`, stopped, or `timeout_s` passed (whichever is first)."""
        state = poll_until(lambda: self.probe.loop_status(serial),
                           lambda seen: seen.written >= wanted or not seen.running,
                           timeout_s=timeout_s, interval_s=WRITER_POLL_S,
                           what=f"{wanted} blocks written in {self.name}",
                           cancel=self.ctx.cancelled, last_on_timeout=True)
        return int(state.written)

    def _pending_claims(self, deadline: float) -> bool:
        pending = []
        for disk in self.disks:
            claim = claims.get_claim(self.kube, disk.claim_name, self.ctx.namespace)
            if claims.phase(claim) == "Bound":
                continue
            refusal = claims.provisioning_refusal(self.kube, claim, self._datavolume(disk))
            if refusal:
                raise BootFailure("refused", refusal, self._claim_evidence(disk, claim))
            pending.append((disk, claim))
        if pending and time.monotonic() > deadline:
            disk, claim = pending[0]
            waited = time.monotonic() - self.created_at
            retry = claims.last_retry(self.kube, [claim, self._datavolume(disk)],
                                      claims.PROVISION_REFUSALS)
            said = f" (last retried error: {retry})" if retry else ""
            raise BootFailure(
                "hung", f"claim {disk.claim_name} still {claims.phase(claim)} after "
                f"{waited:.0f}s with no final refusal from the driver{said}",
                self._claim_evidence(disk, claim))
        return bool(pending)

    def _datavolume(self, disk: DataDisk) -> dict | None:
        if disk.claim:
            return None
        try:
            return self.kube.get(CDI_API, "DataVolume", disk.name, self.ctx.namespace)
        except NotFound:
            return None

    def _claim_evidence(self, disk: DataDisk, claim: dict | None) -> dict[str, Any]:
        events = [f"{e.get('type')} {e.get('reason')}: {e.get('message', '')}"
                  for e in (self.kube.events_for(claim) if claim else [])][-5:]
        return {"vm": self.name, "claim": claims.claim_summary(claim), "claimEvents": events}

    def _vmi_running(self, deadline: float) -> bool:
        vmi = self.vmi()
        phase = ((vmi or {}).get("status") or {}).get("phase", "")
        if phase == "Running":
            return True
        vm = self.kube.get(VM_API, "VirtualMachine", self.name, self.ctx.namespace)
        printable = (vm.get("status") or {}).get("printableStatus", "")
        lasted = self._lasted(printable if printable in VM_ERRORS else "")
        if phase == "Failed" or lasted >= persist_s(self.timeouts.boot_s):
            held = f" for {lasted:.0f}s" if phase != "Failed" else ""
            raise BootFailure("failed", f"VM {self.name} is {printable or phase}{held}: "
                              f"{_condition_text(vm, vmi)}", _vm_evidence(vm, vmi))
        if time.monotonic() > deadline:
            raise BootFailure("failed", f"VM {self.name} not Running after "
                              f"{self.timeouts.boot_s:.0f}s (VMI phase {phase or 'absent'}, "
                              f"VM {printable or 'unknown'})", _vm_evidence(vm, vmi))
        return False

    def _lasted(self, status: str) -> float:
        """Seconds `status` has been shown without a break (0 for no error status)."""
        now = time.monotonic()
        if status != self._status_since[0]:
            self._status_since = (status, now)
        return now - self._status_since[1] if status else 0.0

    def vmi(self) -> dict | None:
        try:
            return self.kube.get(VM_API, "VirtualMachineInstance", self.name, self.ctx.namespace)
        except NotFound:
            return None

    def node(self) -> str:
        return ((self.vmi() or {}).get("status") or {}).get("nodeName", "")

    def claim(self, disk: DataDisk) -> dict | None:
        return claims.get_claim(self.kube, disk.claim_name, self.ctx.namespace)

    def stop(self) -> None:
        self.close()
        with contextlib.suppress(Conflict):  # already stopped
            self.kube.subresource(VM_API, "VirtualMachine", self.name, "stop",
                                  namespace=self.ctx.namespace)
        self.kube.wait_for(VM_API, "VirtualMachine", self.name, _stopped,
                           self.timeouts.boot_s, f"VM {self.name} to stop", self.ctx.namespace)

    def start(self) -> float:
        self.kube.subresource(VM_API, "VirtualMachine", self.name, "start",
                              namespace=self.ctx.namespace)
        self.created_at = time.monotonic()
        return self.wait_ready()

    def delete(self) -> None:
        self.close()
        self.kube.delete(VM_API, "VirtualMachine", self.name, self.ctx.namespace, wait=False)

    # -- guest ----------------------------------------------------------------------

    @property
    def probe(self) -> Probe:
        if self._probe is None:
            self._probe = self._login()
        return self._probe

    def reconnect(self) -> None:
        """A new console connection (after a migration); the probe keeps working."""
        if self.session is None:
            self._probe = self._login()
        else:
            self.session.reconnect()

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
        self.session, self._probe = None, None

    def _login(self) -> Probe:
        guest = self.ctx.profile.guest
        self.session = ConsoleSession(
            self.kube.api_client, self.ctx.namespace, self.name,
            Credentials(guest.user, guest.password), login_timeout_s=self.timeouts.login_s,
            cancel=self.ctx.cancelled)
        self.session.open()
        self._await_cloud_init()
        command = GUEST_PATH if self._run("id -u", 30)[1].strip() == "0" else (
            f"sudo -n {GUEST_PATH}")
        self._await_probe()
        probe = Probe(self._run, command, self.timeouts.command_s, self.session.put_file)
        self._learn_tools(probe)
        return probe

    def _await_cloud_init(self) -> None:
        """Let cloud-init finish before the first probe command: login works before
        cloud-final ends, and its closing messages would land inside a command's output."""
        try:
            code, output = self._run("cloud-init status --wait", self.timeouts.login_s)
        except ConsoleTimeout:
            self.cloud_init = "still running"
            return
        found = re.search(r"status:\s*(\S+)", output)
        self.cloud_init = found.group(1) if found else (
            "absent" if code == 127 else f"exit {code}")

    def _learn_tools(self, probe: Probe) -> None:
        """Once per class: whether the guest has fio, so perf knows before booting."""
        if self.ctx.guest_tools is None:
            fio = probe.has("fio")
            # Fedora ships fio's libaio engine as its own package (fio-engine-libaio)
            libaio = fio and self._run("fio --enghelp=libaio >/dev/null 2>&1", 30)[0] == 0
            self.ctx.guest_tools = GuestTools(fio, libaio, self.cloud_init)

    def _await_probe(self) -> None:
        # cloud-init may still be writing files when the login prompt first appears
        code = poll_until(lambda: self._run(f"test -x {GUEST_PATH}", 30)[0], lambda c: c == 0,
                          timeout_s=PROBE_WAIT_S, interval_s=PROBE_POLL_S,
                          what=f"{GUEST_PATH} in {self.name}", cancel=self.ctx.cancelled,
                          last_on_timeout=True)
        if code != 0:
            raise ConsoleError(f"{GUEST_PATH} is missing in {self.name}: cloud-init "
                               "did not apply write_files")

    def _run(self, line: str, timeout_s: float) -> tuple[int, str]:
        if self.session is None:
            raise ConsoleError(f"no console session to {self.name}")
        result = self.session.run(line, timeout_s)
        return result.exit_code, result.output


def _stopped(vm: dict) -> bool:
    status = vm.get("status") or {}
    return not status.get("created") and status.get("printableStatus", "Stopped") == "Stopped"


def _condition_text(vm: dict, vmi: dict | None) -> str:
    texts = []
    for obj in (vm, vmi or {}):
        for cond in (obj.get("status") or {}).get("conditions") or []:
            failing = cond.get("status") != "True" or cond.get("type") == "Failure"
            if failing and (cond.get("reason") or cond.get("message")):
                    texts.append(f"{cond.get('type')}: {cond.get('reason', '')} "
                                 f"{cond.get('message', '')}".strip())
    return "; ".join(texts[:3]) or "no condition explains it"


def _vm_evidence(vm: dict, vmi: dict | None) -> dict[str, Any]:
    return {"vm": vm["metadata"]["name"],
            "printableStatus": (vm.get("status") or {}).get("printableStatus"),
            "vmiPhase": ((vmi or {}).get("status") or {}).get("phase"),
            "conditions": _condition_text(vm, vmi)}
