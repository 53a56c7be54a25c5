"""KubeVirt's VirtualMachineInstance create webhook, and the VMI spec checks the VM
webhook shares.

Mirrors kubevirt/kubevirt
pkg/virt-api/webhooks/validating-webhook/admitters/vmi-create-admitter.go:
`ValidateVirtualMachineInstanceSpec` (the part the VM webhook runs on its template: every
disk names a volume, boot orders, the disk checks of `kubevirt_disks`, the volume checks
of `kubevirt_volumes`) and, for a VMI only, `validateVirtualMachineInstanceSpecVolumeDisks`
(every volume maps to a disk or filesystem) and `ValidateVirtualMachineInstanceMandatoryFields`
(some memory must be asked for). Refusals are 422 from
`virtualmachineinstances-create-validator.kubevirt.io`. And vmi-update-admitter.go: only
KubeVirt's own service accounts (which the lab's controllers stand for, writing to the
store directly) may change a VMI's spec; an API client gets 422 from
`virtualmachineinstances-update-validator.kubevirt.io`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..resources import ResourceType
from .kubevirt_disks import validate_disks
from .kubevirt_volumes import validate_volumes
from .webhook import VMI_CREATE, VMI_UPDATE, Cause, invalid, kubevirt_causes, required

if TYPE_CHECKING:
    from ..store import Store

KUBEVIRT = "kubevirt.io/kubevirts"


def feature_gates(store: Store) -> set[str]:
    """The gates in the KubeVirt CR's developerConfiguration (what ClusterConfig reads)."""
    for kv in store.list(KUBEVIRT)[0]:
        dev = ((kv.get("spec") or {}).get("configuration") or {}).get(
            "developerConfiguration") or {}
        return set(dev.get("featureGates") or [])
    return set()


def validate_spec(field: str, spec: dict[str, Any], gates: set[str]) -> list[Cause]:
    """The storage-related part of ValidateVirtualMachineInstanceSpec, in its order."""
    devices = ((spec.get("domain") or {}).get("devices") or {})
    disks = list(devices.get("disks") or [])
    volumes = list(spec.get("volumes") or [])
    causes = _disks_name_volumes(field, disks, volumes, gates)
    causes += _interface_boot_order(field, devices, disks)
    causes += validate_disks(f"{field}.domain.devices.disks", disks)
    causes += validate_volumes(f"{field}.volumes", volumes)
    return causes


def _disks_name_volumes(field: str, disks: list[dict[str, Any]],
                        volumes: list[dict[str, Any]], gates: set[str]) -> list[Cause]:
    """validateBootOrder: each disk names a volume (LUNs only PVC/DataVolume ones) and
    boot orders are unique."""
    by_name = {v.get("name"): v for v in volumes}
    causes: list[Cause] = []
    orders: set[int] = set()
    for idx, disk in enumerate(disks):
        at = f"{field}.domain.devices.disks[{idx}]"
        volume = by_name.get(disk.get("name"))
        if volume is None and disk.get("cdrom") is None:
            causes.append(invalid(f"{at}.Name '{disk.get('name')}' not found.", f"{at}.name"))
        elif volume is None and "DeclarativeHotplugVolumes" not in gates:
            causes.append(invalid("DeclarativeHotplugVolumes feature gate not enabled, cannot "
                                  "define an empty CD-ROM disk", f"{at}.name"))
        if (disk.get("lun") is not None and volume is not None
                and volume.get("persistentVolumeClaim") is None
                and volume.get("dataVolume") is None):
            causes.append(invalid(f"{at}.lun can only be mapped to a DataVolume or "
                                  "PersistentVolumeClaim volume.", f"{at}.lun"))
        order = disk.get("bootOrder")
        if order is not None:
            if order in orders:
                causes.append(invalid(f"Boot order for {at}.bootOrder already set for a "
                                      "different device.", f"{at}.bootOrder"))
            orders.add(order)
    return causes


def _interface_boot_order(field: str, devices: dict[str, Any],
                          disks: list[dict[str, Any]]) -> list[Cause]:
    orders = {d.get("bootOrder") for d in disks if d.get("bootOrder") is not None}
    causes: list[Cause] = []
    for idx, iface in enumerate(devices.get("interfaces") or []):
        order = iface.get("bootOrder")
        if order is None:
            continue
        if order < 1:
            causes.append(invalid(f"{field}[{idx}] must have a boot order > 0, if supplied",
                                  f"{field}[{idx}].bootOrder"))
            continue
        at = f"{field}.domain.devices.interfaces[{idx}].bootOrder"
        if order in orders:
            causes.append(invalid(f"Boot order for {at} already set for a different device.",
                                  at))
        orders.add(order)
    return causes


def volumes_map_to_disks(field: str, spec: dict[str, Any]) -> list[Cause]:
    """VMI only: every volume (but a memory dump) is a disk or a filesystem."""
    devices = ((spec.get("domain") or {}).get("devices") or {})
    disks = {d.get("name") for d in devices.get("disks") or []}
    filesystems = {f.get("name") for f in devices.get("filesystems") or []}
    causes: list[Cause] = []
    for idx, volume in enumerate(spec.get("volumes") or []):
        if volume.get("memoryDump") is not None:
            continue
        name = volume.get("name")
        if name not in disks and name not in filesystems:
            at = f"{field}.domain.volumes[{idx}].name"
            causes.append(invalid(f"{at} '{name}' not found.", at))
    return causes


def memory_requested(field: str, spec: dict[str, Any]) -> list[Cause]:
    """VMI only: ValidateVirtualMachineInstanceMandatoryFields."""
    domain = spec.get("domain") or {}
    requests = (domain.get("resources") or {}).get("requests") or {}
    if str(requests.get("memory") or "0") not in ("0", ""):
        return []
    memory = domain.get("memory")
    if memory and (memory.get("guest") is not None or memory.get("hugepages") is not None):
        return []
    return [required(f"no memory requested, at least one of '{field}.domain.memory.guest', "
                     f"'{field}.domain.memory.hugepages.pageSize' or "
                     f"'{field}.domain.resources.requests.memory' must be set")]


def vmi_admission(store: Store) -> Any:
    def hook(op: str, resource: ResourceType, obj: dict[str, Any], old: Any) -> None:
        if (resource.group, resource.plural) != ("kubevirt.io", "virtualmachineinstances"):
            return
        if op == "UPDATE" and old is not None and obj.get("spec") != old.get("spec"):
            raise kubevirt_causes(VMI_UPDATE, [Cause("FieldValueNotSupported",
                                                     "update of VMI object is restricted")])
        if op != "CREATE":
            return
        spec = obj.get("spec") or {}
        causes = validate_spec("spec", spec, feature_gates(store))
        causes += volumes_map_to_disks("spec", spec)
        causes += memory_requested("spec", spec)
        if causes:
            raise kubevirt_causes(VMI_CREATE, causes)
    return hook
