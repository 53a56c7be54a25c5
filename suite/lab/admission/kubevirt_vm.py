"""KubeVirt's VirtualMachine webhook (`virtualmachine-validator.kubevirt.io`).

Mirrors kubevirt/kubevirt
pkg/virt-api/webhooks/validating-webhook/admitters/vms-admitter.go
(`ValidateVirtualMachineSpec`: a template, the template's VMI spec through the same
checks a VMI gets, the DataVolume templates, the run strategy) and
pkg/storage/admitters/data-volume-template.go (`ValidateDataVolumeTemplate`, and the
embedded DataVolume namespace check `vm-storage-admitter.go` runs next). Refusals are 422.
The webhook matches `virtualmachines` on CREATE and UPDATE, not the status subresource,
and lets a VM that is being deleted through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..resources import ResourceType
from .kubevirt_vmi import feature_gates, validate_spec
from .webhook import VM_VALIDATOR, Cause, invalid, kubevirt_causes, required

if TYPE_CHECKING:
    from ..store import Store

RUN_STRATEGIES = ("Halted", "Manual", "Always", "RerunOnFailure", "Once")
DV_SOURCES = ("http", "s3", "gcs", "registry", "pvc", "upload", "blank", "imageio", "vddk",
              "snapshot")


def validate_vm_spec(spec: dict[str, Any], gates: set[str]) -> list[Cause]:
    template = spec.get("template")
    if template is None:
        return [required("missing virtual machine template.", "spec.template")]
    causes = validate_spec("spec.template.spec", template.get("spec") or {}, gates)
    causes += _datavolume_templates(spec)
    causes += _run_strategy(spec, gates)
    return causes


def _datavolume_templates(spec: dict[str, Any]) -> list[Cause]:
    volumes = ((spec.get("template") or {}).get("spec") or {}).get("volumes") or []
    causes: list[Cause] = []
    for idx, template in enumerate(spec.get("dataVolumeTemplates") or []):
        at = f"spec.dataVolumeTemplate[{idx}]"
        problem = _datavolume_template(at, template)
        if problem is not None:
            causes.append(problem)
            continue
        name = (template.get("metadata") or {}).get("name")
        if not any((v.get("persistentVolumeClaim") or {}).get("claimName") == name
                   or (v.get("dataVolume") or {}).get("name") == name for v in volumes):
            causes.append(required(f"DataVolumeTemplate entry {at} must be referenced in the "
                                   "VMI template's 'volumes' list", at))
    return causes


def _datavolume_template(at: str, template: dict[str, Any]) -> Cause | None:
    """validateDataVolume: a name, exactly one of pvc/storage, one way to be populated."""
    if not (template.get("metadata") or {}).get("name"):
        return required(f"'name' field must not be empty for DataVolumeTemplate entry "
                        f"{at}.name.", f"{at}.name")
    dv = template.get("spec") or {}
    pvc, storage = dv.get("pvc"), dv.get("storage")
    if pvc is None and storage is None:
        return invalid("Missing Data volume PVC or Storage", f"{at}.PVC.Storage")
    if pvc is not None and storage is not None:
        return invalid("Duplicate storage definition, both target storage and target pvc "
                       "defined", f"{at}.PVC.Storage")
    target = (pvc if pvc is not None else storage) or {}
    external = target.get("dataSourceRef") is not None or target.get("dataSource") is not None
    sourced = dv.get("source") is not None or dv.get("sourceRef") is not None
    if external and sourced:
        return invalid("External population is incompatible with Source and SourceRef",
                       f"{at}.source")
    if not external and not sourced:
        return invalid("Data volume should have either Source, SourceRef, or be externally "
                       "populated", f"{at}.source.sourceRef")
    if dv.get("source") is not None:
        count = sum((dv.get("source") or {}).get(s) is not None for s in DV_SOURCES)
        if count == 0:
            return invalid("Missing dataVolume valid source", f"{at}.source")
        if count > 1:
            return invalid("Multiple dataVolume sources", f"{at}.source")
    return None


def _run_strategy(spec: dict[str, Any], gates: set[str]) -> list[Cause]:
    running, strategy = spec.get("running"), spec.get("runStrategy")
    causes: list[Cause] = []
    if running is not None and strategy is not None:
        causes.append(invalid("Running and RunStrategy are mutually exclusive. Note that "
                              "Running is deprecated, please use RunStrategy instead",
                              "spec.running"))
    if running is None and strategy is None:
        causes.append(invalid("RunStrategy must be specified", "spec.running"))
    if strategy == "WaitAsReceiver":
        if "DecentralizedLiveMigration" not in gates:
            causes.append(invalid(f"Invalid RunStrategy ({strategy}), DecentralizedLiveMigration "
                                  "feature gate is not enabled in kubevirt resource",
                                  "spec.runStrategy"))
    elif strategy is not None and strategy not in RUN_STRATEGIES:
        causes.append(invalid(f"Invalid RunStrategy ({strategy})", "spec.runStrategy"))
    return causes


def _template_namespaces(obj: dict[str, Any], old: dict[str, Any] | None) -> list[Cause]:
    templates = (obj.get("spec") or {}).get("dataVolumeTemplates") or []
    if old is not None and templates == ((old.get("spec") or {}).get(
            "dataVolumeTemplates") or []):
        return []
    namespace = obj["metadata"].get("namespace", "")
    causes: list[Cause] = []
    for idx, template in enumerate(templates):
        theirs = (template.get("metadata") or {}).get("namespace")
        if theirs and theirs != namespace:
            causes.append(invalid(f"Embedded DataVolume namespace {theirs} differs from VM "
                                  f"namespace {namespace}", f"spec.dataVolumeTemplates[{idx}]"))
    return causes


def vm_admission(store: Store) -> Any:
    def hook(op: str, resource: ResourceType, obj: dict[str, Any], old: Any) -> None:
        if op not in ("CREATE", "UPDATE") or (resource.group, resource.plural) != (
                "kubevirt.io", "virtualmachines"):
            return
        if obj["metadata"].get("deletionTimestamp"):
            return
        if op == "UPDATE" and old is not None and obj.get("spec") == old.get("spec"):
            return  # a status or metadata write: the webhook sees the spec it admitted
        causes = validate_vm_spec(obj.get("spec") or {}, feature_gates(store))
        if not causes:
            causes = _template_namespaces(obj, old if op == "UPDATE" else None)
        if causes:
            raise kubevirt_causes(VM_VALIDATOR, causes)
    return hook
