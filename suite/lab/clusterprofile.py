"""The optional `cluster` section of a driver file (docs/lab-drivers.md, "The `cluster` section").

It says what the lab's cluster is like around the storage: how many nodes accept VMs,
which KubeVirt feature gates are on, which containerDisk images can be pulled and
whether they carry fio, whether guests can install packages, and which API faults a
reliability run wants. Parsed as strictly as the drivers: one line naming the path.

The defaults reproduce a connected OpenShift Virtualization cluster: three schedulable
workers, the feature gates HyperConverged sets in the KubeVirt CR (its hard-coded list in
hyperconverged-cluster-operator `controllers/operands/kubevirt.go`, plus the two it adds
when SSP is deployed, as on OpenShift), and Fedora 41's containerDisk, which has no fio.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from suite.strictyaml import UNKNOWN_KEY, check_keys

from .drivers import DriverProfileError, _bool, _choice, driver_file_errors


def require_qemu_image(where: str) -> None:
    """`guests: qemu` needs the guest image built at setup time: say so in one line."""
    from .compute.qemu.image import GuestImageMissing, find_image

    try:
        find_image()
    except GuestImageMissing as exc:
        raise DriverProfileError(f"{where}: {exc}") from None

GUESTS = ("process", "qemu")
GUEST_PACKAGES = ("connected", "air-gapped")
MAX_NODES = 8

DEFAULT_FEATURE_GATES: tuple[str, ...] = (
    "CPUManager", "Snapshot", "HotplugVolumes", "ExpandDisks", "HostDevices", "VMExport",
    "KubevirtSeccompProfile", "VMPersistentState", "InstancetypeReferencePolicy",
    "WithHostModelCPU", "HypervStrictCheck")

FEDORA_IMAGE = "quay.io/containerdisks/fedora:41"
# An image a site builds (or mirrors) with fio and its libaio engine inside, for
# air-gapped clusters where cloud-init cannot install packages; profiles point
# `guest.image` at it.
FEDORA_FIO_IMAGE = "quay.io/kubevirt-storage-suite/fedora-fio:41"

_TOP_KEYS = ("schedulableNodes", "featureGates", "guests", "guestPackages", "images", "api")
_API_KEYS = ("throttle429", "errors5xx", "watchCutAfterS", "latencyMs")
_IMAGE_RE = re.compile(r"[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*"
                       r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?")
_GATE_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*")


@dataclass(frozen=True)
class GuestImage:
    """A containerDisk image the lab can pull, and what it carries."""

    fio: bool = False


@dataclass(frozen=True)
class ApiFaultProfile:
    """API-level faults for reliability runs; all off by default."""

    throttle429: float = 0.0  # share of requests answered 429 with Retry-After: 1
    errors5xx: float = 0.0  # share of requests answered 500 or 503
    watch_cut_after_s: float = 0.0  # the server closes every watch after this long (0: never)
    latency_ms: int = 0  # added to every request

    @property
    def any(self) -> bool:
        return bool(self.throttle429 or self.errors5xx or self.watch_cut_after_s
                    or self.latency_ms)


def _default_images() -> dict[str, GuestImage]:
    return {FEDORA_IMAGE: GuestImage(fio=False), FEDORA_FIO_IMAGE: GuestImage(fio=True)}


@dataclass(frozen=True)
class ClusterProfile:
    """What the cluster around the storage is like (defaults: connected OpenShift Virt)."""

    schedulable_nodes: int = 3
    feature_gates: tuple[str, ...] = DEFAULT_FEATURE_GATES
    guests: str = "process"
    guest_packages: str = "connected"
    images: dict[str, GuestImage] = field(default_factory=_default_images)
    api: ApiFaultProfile = field(default_factory=ApiFaultProfile)

    def has_gate(self, gate: str) -> bool:
        return gate in self.feature_gates

    def image(self, reference: str) -> GuestImage | None:
        """The image if the lab can pull it (a bare name means `:latest`, as for docker)."""
        if reference in self.images:
            return self.images[reference]
        last = reference.rsplit("/", 1)[-1]
        if ":" not in last and "@" not in last:
            return self.images.get(f"{reference}:latest")
        return None

    @property
    def connected(self) -> bool:
        return self.guest_packages == "connected"


def parse_cluster(value: Any, path: str = "cluster") -> ClusterProfile:
    """The `cluster` section (None or absent: the defaults)."""
    with driver_file_errors():
        return _cluster(value, path)


def _cluster(value: Any, path: str) -> ClusterProfile:
    if value is None:
        return ClusterProfile()
    if not isinstance(value, dict):
        raise DriverProfileError(f"{path}: expected a mapping with keys {', '.join(_TOP_KEYS)}")
    check_keys(value, _TOP_KEYS, path, UNKNOWN_KEY)
    defaults = ClusterProfile()
    guests = _choice(value.get("guests", defaults.guests), GUESTS, f"{path}.guests")
    if guests == "qemu":
        require_qemu_image(f"{path}.guests")
    return ClusterProfile(
        schedulable_nodes=_int(value.get("schedulableNodes", defaults.schedulable_nodes),
                               f"{path}.schedulableNodes", 1, MAX_NODES),
        feature_gates=_gates(value.get("featureGates", list(defaults.feature_gates)),
                             f"{path}.featureGates"),
        guests=guests,
        guest_packages=_choice(value.get("guestPackages", defaults.guest_packages),
                               GUEST_PACKAGES, f"{path}.guestPackages"),
        images=_images(value["images"], f"{path}.images") if "images" in value
        else defaults.images,
        api=_api(value.get("api"), f"{path}.api"),
    )


def _int(value: Any, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DriverProfileError(f"{path}: expected an integer from {low} to {high}, "
                                 f"got {value!r}")
    return value


def _number(value: Any, path: str, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 \
            or (high is not None and value > high):
        bound = f"from 0 to {high}" if high is not None else "of 0 or more"
        raise DriverProfileError(f"{path}: expected a number {bound}, got {value!r}")
    return float(value)


def _gates(value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise DriverProfileError(f"{path}: expected a list of KubeVirt feature gate names")
    for i, gate in enumerate(value):
        if not isinstance(gate, str) or not _GATE_RE.fullmatch(gate):
            raise DriverProfileError(f"{path}[{i}]: {gate!r} is not a feature gate name "
                                     "(e.g. ExpandDisks)")
    return tuple(dict.fromkeys(value))


def _images(value: Any, path: str) -> dict[str, GuestImage]:
    if not isinstance(value, dict) or not value:
        raise DriverProfileError(f"{path}: expected a mapping of image reference to "
                                 "{fio: true|false}")
    images: dict[str, GuestImage] = {}
    for reference, facts in value.items():
        where = f"{path}.{reference}"
        if not isinstance(reference, str) or not _IMAGE_RE.fullmatch(reference):
            raise DriverProfileError(f"{where}: not a valid image reference")
        if facts is None:
            facts = {}
        if not isinstance(facts, dict):
            raise DriverProfileError(f"{where}: expected a mapping such as {{fio: false}}")
        check_keys(facts, ("fio",), where, "unknown key; expected fio")
        images[reference] = GuestImage(fio=_bool(facts.get("fio", False), f"{where}.fio"))
    return images


def _api(value: Any, path: str) -> ApiFaultProfile:
    if value is None:
        return ApiFaultProfile()
    if not isinstance(value, dict):
        raise DriverProfileError(f"{path}: expected a mapping with keys {', '.join(_API_KEYS)}")
    check_keys(value, _API_KEYS, path, UNKNOWN_KEY)
    latency = value.get("latencyMs", 0)
    if isinstance(latency, bool) or not isinstance(latency, int) or latency < 0:
        raise DriverProfileError(f"{path}.latencyMs: expected an integer of 0 or more, "
                                 f"got {latency!r}")
    return ApiFaultProfile(
        throttle429=_number(value.get("throttle429", 0.0), f"{path}.throttle429", 1.0),
        errors5xx=_number(value.get("errors5xx", 0.0), f"{path}.errors5xx", 1.0),
        watch_cut_after_s=_number(value.get("watchCutAfterS", 0), f"{path}.watchCutAfterS"),
        latency_ms=latency,
    )
