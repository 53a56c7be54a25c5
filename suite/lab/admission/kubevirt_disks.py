"""KubeVirt's disk checks, shared by the VM and VMI webhooks.

Mirrors kubevirt/kubevirt pkg/storage/admitters/disks.go (`ValidateDisks`): unique disk
names, one target type, boot order, bus, serial format and length, cache and IO modes,
error policy, and the disk name as a container name. Paths and messages are KubeVirt's,
including the odd ones (some causes repeat `domain.devices.disks` in their field path).
"""

from __future__ import annotations

import re
from typing import Any

from .webhook import Cause, invalid

MAX_SERIAL = 256
SUPPORTED_BUSES = "[virtio scsi sata usb]"
_SERIAL = re.compile(r"^[A-Za-z0-9_.+-]+$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
TARGETS = ("disk", "lun", "cdrom")


def disk_bus(disk: dict[str, Any]) -> tuple[str, str]:
    """(bus, target type) of a disk; ("", "") when no target is set (KubeVirt's default)."""
    for target in TARGETS:
        if disk.get(target) is not None:
            return str((disk.get(target) or {}).get("bus") or ""), target
    return "", ""


def validate_disks(field: str, disks: list[dict[str, Any]]) -> list[Cause]:
    causes: list[Cause] = []
    for idx, disk in enumerate(disks):
        at = f"{field}[{idx}]"
        causes += _name(field, idx, disks)
        if sum(disk.get(t) is not None for t in TARGETS) > 1:
            causes.append(invalid(f"{at} can only have a single target type defined", at))
        order = disk.get("bootOrder")
        if order is not None and order < 1:
            causes.append(invalid(f"{at} must have a boot order > 0, if supplied",
                                  f"{at}.bootOrder"))
        causes += _bus(field, idx, disk)
        causes += _serial(at, disk)
        causes += _modes(field, idx, disk)
        causes += _container_name(field, idx, disk)
    return causes


def _name(field: str, idx: int, disks: list[dict[str, Any]]) -> list[Cause]:
    name = disks[idx].get("name")
    return [invalid(f"{field}[{idx}] and {field}[{other}] must not have the same Name.",
                    f"{field}[{idx}].name")
            for other in range(idx) if disks[other].get("name") == name]


def _bus(field: str, idx: int, disk: dict[str, Any]) -> list[Cause]:
    bus, target = disk_bus(disk)
    at = f"{field}[{idx}]"
    causes: list[Cause] = []
    if not bus:
        return causes
    if bus == "ide":
        causes.append(invalid("IDE bus is not supported", f"{at}.{target}.bus"))
    elif bus == "virtio" and target == "cdrom":
        causes.append(invalid(f"Bus type {bus} is invalid for CD-ROM device",
                              f"{at}.cdrom.bus"))
    elif bus == "sata" and (disk.get("disk") or {}).get("readOnly"):
        causes.append(invalid(f"{bus} hard-disks do not support read-only.",
                              f"{at}.disk.bus"))
    elif bus not in ("virtio", "sata", "scsi", "usb"):
        causes.append(invalid(f"{at} is set with an unrecognized bus {bus}, must be one of: "
                              f"{SUPPORTED_BUSES}", f"{at}.{target}.bus"))
    if disk.get("dedicatedIOThread") and bus != "virtio":
        causes.append(Cause("FieldValueNotSupported",
                            f"IOThreads are not supported for disks on a {bus} bus",
                            f"{field}.domain.devices.disks[{idx}]"))
    return causes


def _serial(at: str, disk: dict[str, Any]) -> list[Cause]:
    serial = disk.get("serial") or ""
    causes: list[Cause] = []
    if serial and not _SERIAL.match(serial):
        causes.append(invalid(f"{at} must be made up of the following characters "
                              "[A-Za-z0-9_.+-], if specified", f"{at}.serial"))
    if serial and len(serial) > MAX_SERIAL:
        causes.append(invalid(f"{at} must be less than or equal to {MAX_SERIAL} in length, "
                              "if specified", f"{at}.serial"))
    return causes


def _modes(field: str, idx: int, disk: dict[str, Any]) -> list[Cause]:
    at = f"{field}[{idx}]"
    causes: list[Cause] = []
    cache, io, policy = disk.get("cache"), disk.get("io"), disk.get("errorPolicy")
    if cache and cache not in ("none", "writethrough", "writeback"):
        causes.append(invalid(f"{at}.cache has invalid value {cache}", f"{at}.cache"))
    if io and io not in ("native", "threads"):
        causes.append(Cause("FieldValueNotSupported",
                            f"Disk IO mode for {field} is not supported. Supported modes "
                            "are: native, threads.", f"{field}.domain.devices.disks[{idx}].io"))
    if policy is not None and policy not in ("stop", "ignore", "report", "enospace"):
        causes.append(invalid(f'{at}.errorPolicy has invalid value "{policy}"',
                              f"{at}.errorPolicy"))
    return causes


def _container_name(field: str, idx: int, disk: dict[str, Any]) -> list[Cause]:
    """A disk name becomes a container name: a DNS-1123 label (IsDNS1123Label's texts)."""
    name = str(disk.get("name") or "")
    where = f"{field}.domain.devices.disks[{idx}].name"
    causes: list[Cause] = []
    if len(name) > 63:
        causes.append(invalid("must be no more than 63 characters", where))
    if not _DNS_LABEL.match(name):
        causes.append(invalid(_DNS_LABEL_MESSAGE, where))
    return causes
