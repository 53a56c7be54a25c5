"""What the data plane knows about a volume or a snapshot, and where it keeps it.

Each volume is a folder under `state_dir/volumes/<handle>/` holding `disk.raw` (the
image as storage holds it), the export (`export`, or `fs/disk.img` for Filesystem
mode), its own daemon's `qmp.sock` and `qsd.log` (a volume of a limited class is
served by the class's daemon under `state_dir/classes/<class>/` instead), and
`volume.json` describing it for humans. Keys stay in memory only: nothing on disk holds one.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import DataPlaneError
from .images import ImageRef, export_size_for

if TYPE_CHECKING:
    from .classdaemon import SharedExport
    from .daemon import Daemon
    from .nodeview import NodeDevice

VOLUME_MODES = ("Block", "Filesystem")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def check_name(kind: str, name: str) -> str:
    """Handles and snapshot ids become folder names: refuse anything path-like."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise DataPlaneError(f"invalid {kind} {name!r}: use letters, digits, '.', '_', '-'")
    return name


@dataclass(frozen=True)
class VolumeSpec:
    """How a volume is provisioned; the same options serve create, restore and clone."""

    volume_mode: str
    encrypt: bool = False
    key: bytes | None = None
    pretend_encrypted: bool = False
    limits: Mapping[str, Any] | None = None
    fs_overhead: float = 0.055
    limit_group: str | None = None  # the class whose volumes share `limits` (None: alone)

    def check(self, handle: str) -> None:
        if self.volume_mode not in VOLUME_MODES:
            raise DataPlaneError(f"volume {handle}: volume_mode must be Block or Filesystem, "
                                 f"not {self.volume_mode!r}")
        if self.encrypt and not self.key:
            raise DataPlaneError(f"volume {handle}: encryption needs a non-empty key")
        if not 0.0 <= self.fs_overhead < 1.0:
            raise DataPlaneError(f"volume {handle}: fs_overhead must be in [0, 1)")
        if self.limit_group is not None:
            check_name("limit group", self.limit_group)

    @property
    def stored_key(self) -> bytes | None:
        """The key the image is really encrypted with (None: plaintext on disk).

        `pretend_encrypted` is the `encryption-not-applied` fault: the class declares
        LUKS and the node view shows a mapper device, but the bytes stay plaintext.
        """
        return self.key if self.encrypt and not self.pretend_encrypted else None

    def export_size(self, capacity: int) -> int:
        return export_size_for(capacity, self.volume_mode, self.fs_overhead)


@dataclass
class Volume:
    """One live volume: its folder, spec, sizes, daemon and attachments."""

    handle: str
    folder: Path
    spec: VolumeSpec
    capacity: int
    export_size: int
    header_bytes: int = 0
    daemon: Daemon | SharedExport | None = None  # its own daemon, or its class's
    attachments: dict[str, NodeDevice] = field(default_factory=dict)
    stale_export: bool = False  # storage grew but the running export was not told
    birth: Snapshot | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def disk(self) -> Path:
        return self.folder / "disk.raw"

    @property
    def export(self) -> Path:
        if self.spec.volume_mode == "Filesystem":
            return self.folder / "fs" / "disk.img"
        return self.folder / "export"

    @property
    def image(self) -> ImageRef:
        return ImageRef(self.disk, self.spec.stored_key, self.header_bytes)

    def write_meta(self) -> None:
        meta = {"handle": self.handle, "capacity": self.capacity,
                "exportSize": self.export_size, "volumeMode": self.spec.volume_mode,
                "encrypt": self.spec.encrypt, "storedEncrypted": self.image.key is not None,
                "limits": dict(self.spec.limits or {}), "limitGroup": self.spec.limit_group,
                "fsOverhead": self.spec.fs_overhead,
                "export": str(self.export), "staleExport": self.stale_export,
                "daemonPid": self.daemon.pid if self.daemon else None,
                "attachedTo": sorted(self.attachments)}
        (self.folder / "volume.json").write_text(json.dumps(meta, indent=2) + "\n")


@dataclass(frozen=True)
class Snapshot:
    """A frozen copy of a volume's image and the sizes it had when copied."""

    snapshot_id: str
    image: ImageRef
    payload: int  # bytes a consumer saw (the export size at copy time)
    capacity: int
    volume_mode: str
    source: str

    def write_meta(self, folder: Path) -> None:
        meta = {"snapshotId": self.snapshot_id, "source": self.source,
                "capacity": self.capacity, "payload": self.payload,
                "volumeMode": self.volume_mode, "storedEncrypted": self.image.key is not None}
        (folder / "snapshot.json").write_text(json.dumps(meta, indent=2) + "\n")
