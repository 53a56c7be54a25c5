"""Admission in the lab as the real webhooks and API server do it (docs/admission.md).

One module per upstream admitter; each gives a store admission hook
`hook(op, resource, obj, old)` that raises `ApiError` with the real code and message.
`register(ctx)` adds the hooks that the lab's halves do not register themselves: storage
registers `core_pvc.claim_admission` (through `suite.lab.storage.admission`) and compute
registers `kubevirt_migration.migration_admission` (through `compute.migration.admit`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .cdi_datavolume import datavolume_admission
from .kubevirt_vm import vm_admission
from .kubevirt_vmi import vmi_admission
from .snapshot import snapshot_admission

if TYPE_CHECKING:
    from ..context import LabContext


def register(ctx: LabContext) -> None:
    """Add the KubeVirt VM/VMI, CDI DataVolume and VolumeSnapshot rules to the store."""
    store = ctx.store
    for make in (vm_admission, vmi_admission, datavolume_admission, snapshot_admission):
        store.admission.append(make(store))
