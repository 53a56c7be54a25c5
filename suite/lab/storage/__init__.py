"""The storage half of the lab: driver objects, CSI sidecars and CDI (docs/internals.md).

`start(ctx)` creates the cluster-scoped storage objects for every driver profile, starts
the image server, registers the PVC resize admission and launches the controllers:
provisioner, claim protection and reclaim, attacher, resizer, snapshotter, DataVolumes,
StorageProfiles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .admission import claim_admission
from .attacher import Attacher
from .bootstrap import bootstrap
from .cdi.datavolume import DataVolumes
from .common import Drivers
from .images import start_image_server
from .protection import Protection
from .provisioner import Provisioner
from .resizer import Resizer
from .snapshotter import Snapshotter
from .storageprofiles import StorageProfiles

if TYPE_CHECKING:
    from ..context import LabContext


async def start(ctx: LabContext) -> None:
    """Launch this half's controllers on the lab loop."""
    drivers = Drivers(list(ctx.drivers))
    bootstrap(ctx, drivers)
    ctx.store.admission.append(claim_admission(ctx.store))
    await start_image_server(ctx)
    kinds: list[Any] = [Provisioner, Protection, Attacher, Resizer, Snapshotter, DataVolumes,
                        StorageProfiles]
    for kind in kinds:
        kind(ctx, drivers).start()
