"""KubeVirt's VirtualMachineInstanceMigration webhooks (create and update).

Mirrors kubevirt/kubevirt pkg/virt-api/webhooks/validating-webhook/admitters/
migration-create-admitter.go (vmiName required; the VMI exists, is not final, is not
LiveMigratable=False, and has no migration in flight: 400 with the error's text) and
migration-update-admitter.go (the spec is immutable; an in-flight migration keeps its
selector label), plus the create mutator's selector label (mutators/
migration-create-mutator.go) that the in-flight check lists by.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..resources import ResourceType
from .webhook import (
    MIGRATION_CREATE,
    MIGRATION_UPDATE,
    Cause,
    kubevirt_causes,
    kubevirt_error,
    required,
)

if TYPE_CHECKING:
    from ..store import Store

VMI = "kubevirt.io/virtualmachineinstances"
VMIM = "kubevirt.io/virtualmachineinstancemigrations"
SELECTOR_LABEL = "kubevirt.io/vmi-name"
FINAL = ("Succeeded", "Failed")


def _is(resource: ResourceType) -> bool:
    return (resource.group, resource.plural) == ("kubevirt.io", "virtualmachineinstancemigrations")


def admit_create(store: Store, obj: dict[str, Any]) -> None:
    ns, name = obj["metadata"].get("namespace", ""), (obj.get("spec") or {}).get("vmiName")
    if not name:
        raise kubevirt_causes(MIGRATION_CREATE, [required("vmiName is missing",
                                                          "spec.vmiName")])
    vmi = store.try_get(VMI, ns, name)
    if vmi is None:
        raise kubevirt_error(MIGRATION_CREATE, f'the VMI "{ns}/{name}" does not exist')
    status = vmi.get("status") or {}
    if status.get("phase") in FINAL:
        raise kubevirt_error(MIGRATION_CREATE, "Cannot migrate VMI in finalized state.")
    for condition in status.get("conditions") or []:
        if condition.get("type") == "LiveMigratable" and condition.get("status") == "False":
            raise kubevirt_error(MIGRATION_CREATE, f"Cannot migrate VMI, Reason: "
                                 f"{condition.get('reason', '')}, Message: "
                                 f"{condition.get('message', '')}")
    for other in store.list(VMIM, ns, label_selector=f"{SELECTOR_LABEL}={name}")[0]:
        if (other.get("status") or {}).get("phase") not in FINAL:
            raise kubevirt_error(MIGRATION_CREATE, f"in-flight migration detected. Active "
                                 f"migration job ({other['metadata']['uid']}) is currently "
                                 f"already in progress for VMI {name}.")
    obj["metadata"].setdefault("labels", {})[SELECTOR_LABEL] = name  # the create mutator


def admit_update(obj: dict[str, Any], old: dict[str, Any]) -> None:
    if obj.get("spec") != old.get("spec"):
        raise kubevirt_causes(MIGRATION_UPDATE, [Cause(
            "FieldValueNotSupported", "update of Migration object's spec is restricted")])
    if (obj.get("status") or {}).get("phase") in FINAL:
        return
    old_labels = old["metadata"].get("labels")
    if old_labels is None or SELECTOR_LABEL not in old_labels:
        return
    new_labels = obj["metadata"].get("labels")
    if new_labels is None:
        message = "selector label can't be removed from an in-flight migration"
    elif new_labels.get(SELECTOR_LABEL) != old_labels[SELECTOR_LABEL]:
        message = "selector label can't be modified on an in-flight migration"
    else:
        return
    raise kubevirt_causes(MIGRATION_UPDATE, [Cause("FieldValueNotSupported", message)])


def migration_admission(store: Store) -> Any:
    def hook(op: str, resource: ResourceType, obj: dict[str, Any], old: Any) -> None:
        if not _is(resource):
            return
        if op == "CREATE":
            admit_create(store, obj)
        elif op == "UPDATE" and old is not None:
            admit_update(obj, old)
    return hook
