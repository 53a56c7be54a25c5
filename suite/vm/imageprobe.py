"""Before any StorageClass is assessed: one small VM proves the guest image can be pulled.

Without it a wrong or unreachable `guest.image` shows up only as every cell's VM sitting
in `ErrImagePull` / `ImagePullBackOff` until the boot timeout, minutes later, and every
cell ends `inconclusive` for a reason that is not about storage. The probe VM has no
disk but the profile's containerDisk: it is decided as soon as KubeVirt says so.

- pulled: the VMI reaches `Scheduled` or `Running` (KubeVirt sets `Scheduled` only once
  the virt-launcher pod runs, i.e. after kubelet pulled every container image);
- cannot be pulled: the VMI's `Synchronized` condition (virt-controller copies the
  launcher's waiting reason there, kubevirt pkg/virt-controller/watch/vmi/lifecycle.go
  `checkForContainerImageError`) or the VM's printableStatus says `ErrImagePull` /
  `ImagePullBackOff` without a break for `PULL_PERSIST_S` (kubelet retries a pull after
  10 s and doubles the wait, kubernetes pkg/kubelet/kubelet.go `imageBackOffPeriod`, so
  25 s spans a retry and a registry hiccup clears within it). The run stops with one line;
- anything else (a VMI that failed, one that cannot be scheduled, a pull still going)
  after the boot timeout or two minutes, whichever is first: undecided, the run goes on
  and the classes' own VMs report what they see (waiting longer would only delay them).

Only reads the VM and VMI (no pod permissions), so the RBAC table needs no new row.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from suite.cluster.errors import NotFound
from suite.cluster.waits import poll_until
from suite.config.errors import ConfigError
from suite.vm.manifests import ROLE_LABEL, VM_API

PULL_ERRORS = ("ErrImagePull", "ImagePullBackOff")
PULL_PERSIST_S = 25.0
UNDECIDED_AFTER_S = 120.0
POLL_S = 1.0
PROBE_PREFIX = "kvs-image-probe"


@dataclass
class ProbeResult:
    """`pulled` True (proven), or None (undecided: `detail` says what was seen)."""

    pulled: bool | None
    seconds: float
    detail: str = ""


def probe_vm(name: str, namespace: str, image: str, memory: str) -> dict[str, Any]:
    """A VM whose only volume is the containerDisk under test (no cloud-init, no claim)."""
    return {
        "apiVersion": VM_API, "kind": "VirtualMachine",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {ROLE_LABEL: "image-probe"}},
        "spec": {"runStrategy": "Always", "template": {
            "metadata": {"labels": {"kubevirt.io/vm": name}},
            "spec": {
                "domain": {"resources": {"requests": {"memory": memory}},
                           "devices": {"disks": [{"name": "rootdisk",
                                                  "disk": {"bus": "virtio"}}]}},
                "terminationGracePeriodSeconds": 0,
                "volumes": [{"name": "rootdisk", "containerDisk": {"image": image}}]}}},
    }


def pull_state(vm: dict[str, Any] | None, vmi: dict[str, Any] | None) -> tuple[str, str]:
    """(`pulled` | a pull error reason | '', message) from what KubeVirt shows."""
    status = (vmi or {}).get("status") or {}
    if status.get("phase") in ("Scheduled", "Running"):
        return "pulled", ""
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Synchronized" and condition.get("reason") in PULL_ERRORS:
            return condition["reason"], str(condition.get("message") or "")
    printable = ((vm or {}).get("status") or {}).get("printableStatus", "")
    return (printable, "") if printable in PULL_ERRORS else ("", "")


def unpullable_message(image: str, reason: str, held_s: float, error: str,
                       profile: str) -> str:
    """`profile` as the user should read it, e.g. "'full' (profiles/full.yaml)"."""
    said = f": {' '.join(error.split())}" if error else ""
    return (f"guest image {image} cannot be pulled ({reason} for {held_s:.0f}s{said}); "
            f"set guest.image in profile {profile} to an image the cluster can pull "
            "(air-gapped clusters: a mirror of it in a reachable registry)")


class ImageProbe:
    """Boot the probe VM, decide, delete it (the deletion is also on `kube.cleanup`)."""

    def __init__(self, kube: Any, namespace: str, image: str, memory: str, profile: str,
                 timeout_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.kube, self.namespace, self.image = kube, namespace, image
        self.memory, self.profile, self.clock = memory, profile, clock
        self.timeout_s = min(timeout_s, UNDECIDED_AFTER_S)
        self.name = f"{PROBE_PREFIX}-{secrets.token_hex(2)}"  # unique in a shared namespace

    def run(self) -> ProbeResult:
        """Raises ConfigError when the image cannot be pulled."""
        self.kube.create(probe_vm(self.name, self.namespace, self.image, self.memory))
        try:
            return self._wait()
        finally:
            self.kube.delete(VM_API, "VirtualMachine", self.name, self.namespace, wait=False)

    def _wait(self) -> ProbeResult:
        start = self.clock()
        failing_since: float | None = None
        first_error = ""

        def decided() -> ProbeResult | None:
            nonlocal failing_since, first_error
            vmi = self._get("VirtualMachineInstance")
            state, message = pull_state(self._get("VirtualMachine"), vmi)
            now = self.clock()
            if state == "pulled":
                return ProbeResult(True, now - start)
            if state in PULL_ERRORS:
                failing_since = failing_since if failing_since is not None else now
                if state == "ErrImagePull" and message:
                    first_error = message  # the registry's own words, not the back-off
                held = now - failing_since
                if held >= PULL_PERSIST_S:
                    raise ConfigError(unpullable_message(
                        self.image, state, held, first_error or message, self.profile))
            else:
                failing_since = None
            phase = ((vmi or {}).get("status") or {}).get("phase") or "absent"
            if phase in ("Failed", "Succeeded") or now - start >= self.timeout_s:
                return ProbeResult(None, now - start, f"VMI phase {phase}")
            return None

        # the sample ends the wait itself: pulled, unpullable, or undecided at timeout_s
        result = poll_until(decided, lambda found: found is not None, timeout_s=None,
                            interval_s=POLL_S, what=f"image probe VM {self.name}",
                            cancel=self.kube.cancel, clock=self.clock)
        assert result is not None
        return result

    def _get(self, kind: str) -> dict[str, Any] | None:
        try:
            return self.kube.get(VM_API, kind, self.name, self.namespace)
        except NotFound:
            return None
