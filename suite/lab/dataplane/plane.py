"""The lab's data plane: real volumes behind a small API (see docs/internals.md).

Every volume is a sparse image served by a qemu-storage-daemon and exported as a file
through FUSE, so consumers read and write real bytes, encryption is real LUKS, limits
are real QEMU throttle groups, and snapshots and clones are real copies. A volume of
an unlimited class has its own daemon; the volumes of a limited class (`limit_group`)
share one daemon and one throttle group, so the class's IOPS and bandwidth are shared
as on a real array (classdaemon.py). The
storage faults are implemented here the way a buggy driver would commit them: the call
succeeds and the bytes or sizes are wrong.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import mounts
from .budget import Budgets
from .classdaemon import ClassDaemon, SharedExport
from .daemon import Daemon, DaemonConfig, throttle_options
from .errors import DataPlaneError
from .images import ImageRef, LuksHeaders, convert, copy_sparse, fill_zeroes, make_plain
from .importer import ExportWriter, Progress, import_file, import_url
from .nodeview import NodeDevice, NodeView
from .volume import Snapshot, Volume, VolumeSpec, check_name

_RESIZE_VISIBLE_TIMEOUT_S = 3.0


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DataPlane:
    """All volumes, snapshots and node views of one lab, kept under `state_dir`."""

    def __init__(self, state_dir: Path | str) -> None:
        self.state_dir = Path(state_dir).resolve()
        self._volumes: dict[str, Volume] = {}
        self._snapshots: dict[str, Snapshot] = {}
        self._luks = LuksHeaders(self.state_dir / "luks-headers")
        self.nodes = NodeView(self.state_dir / "nodes")
        self.budgets = Budgets()  # host-assisted copies share their class's pipe
        self._classes: dict[str, ClassDaemon] = {}  # limited classes' shared daemons

    # ---- provisioning -------------------------------------------------------------

    async def create_volume(self, handle: str, size_bytes: int, *, volume_mode: str,
                            encrypt: bool = False, key: bytes | None = None,
                            pretend_encrypted: bool = False,
                            limits: Mapping[str, Any] | None = None,
                            fs_overhead: float = 0.055,
                            limit_group: str | None = None) -> Path:
        """Provision a blank volume and serve it; returns its export path.

        `limit_group` (the class's name) makes `limits` shared by every volume of the
        group; without it a limited volume gets a throttle group of its own."""
        spec = VolumeSpec(volume_mode, encrypt, key, pretend_encrypted, limits,
                          float(fs_overhead), limit_group)
        return (await self._provision(handle, size_bytes, spec, None)).export

    async def restore(self, snapshot_id: str, new_handle: str, size_bytes: int, *,
                      volume_mode: str, encrypt: bool = False, key: bytes | None = None,
                      pretend_encrypted: bool = False,
                      limits: Mapping[str, Any] | None = None,
                      fs_overhead: float = 0.055,
                      limit_group: str | None = None) -> Path:
        """A new volume (same or larger size, its own options) holding a snapshot's bytes."""
        snap = self._snapshot(snapshot_id)
        if size_bytes < snap.capacity:
            raise DataPlaneError(f"snapshot {snapshot_id}: a restore needs at least "
                                 f"{snap.capacity} bytes, not {size_bytes}")
        spec = VolumeSpec(volume_mode, encrypt, key, pretend_encrypted, limits,
                          float(fs_overhead), limit_group)
        return (await self._provision(new_handle, size_bytes, spec, snap)).export

    async def _provision(self, handle: str, capacity: int, spec: VolumeSpec,
                         source: Snapshot | None) -> Volume:
        check_name("volume handle", handle)
        spec.check(handle)
        if handle in self._volumes:
            raise DataPlaneError(f"volume {handle} already exists")
        export_size = spec.export_size(capacity)
        if source is not None and spec.volume_mode == "Filesystem" and \
                export_size < source.payload <= capacity:
            # CDI copies a clone's image at its virtual size; a sparse disk.img fits in a
            # filesystem whose usable space KubeVirt's rule would size smaller
            export_size = source.payload
        vol = Volume(handle, self.state_dir / "volumes" / handle, spec, capacity, export_size)
        if vol.export_size <= 0:
            raise DataPlaneError(f"volume {handle}: {capacity} bytes is too small")
        self._check_fits(vol, source)
        self._volumes[handle] = vol
        try:
            async with vol.lock:
                self._prepare_folder(vol)
                await self._fill(vol, source)
                await self._start(vol)
        except BaseException:
            del self._volumes[handle]
            await self._discard(vol)
            raise
        return vol

    @staticmethod
    def _check_fits(vol: Volume, source: Snapshot | None) -> None:
        if source is not None and source.payload > vol.export_size:
            raise DataPlaneError(f"volume {vol.handle}: the source holds {source.payload} "
                                 f"bytes, more than the {vol.export_size} it exports")

    def _prepare_folder(self, vol: Volume) -> None:
        if vol.folder.exists():  # left over from an earlier lab on this state dir
            for mountpoint in mounts.mounts_under(vol.folder):
                mounts.force_unmount(mountpoint)
            shutil.rmtree(vol.folder)
        vol.export.parent.mkdir(parents=True)

    async def _fill(self, vol: Volume, source: Snapshot | None) -> None:
        """Write the image: blank, a sparse copy (same encryption), or a conversion."""
        if source is None:
            await self._blank(vol)
        elif source.image.key == vol.spec.stored_key:
            vol.disk.unlink(missing_ok=True)
            await copy_sparse(source.image.path, vol.disk)
            vol.header_bytes = source.image.header_bytes
            os.truncate(vol.disk, vol.header_bytes + vol.export_size)
        else:  # re-encrypting (other key, or to/from plaintext) needs the plaintext path
            await self._blank(vol)
            await convert(source.image, vol.image, source.payload,
                          target_is_zero=vol.image.key is None)

    async def _blank(self, vol: Volume) -> None:
        vol.disk.unlink(missing_ok=True)
        key = vol.spec.stored_key
        if key is None:
            make_plain(vol.disk, vol.export_size)
            vol.header_bytes = 0
        else:
            made = await self._luks.make_image(vol.disk, key, vol.export_size)
            vol.header_bytes = made.header_bytes

    async def _start(self, vol: Volume) -> None:
        config = DaemonConfig(vol.handle, vol.image, vol.export, vol.folder, vol.spec.limits)
        group = vol.spec.limit_group
        if group is not None and throttle_options(vol.spec.limits):
            vol.daemon = SharedExport(self._class_daemon(group, vol.spec.limits or {}), config)
        else:
            vol.daemon = Daemon(config)
        await vol.daemon.start()
        vol.stale_export = False
        vol.write_meta()

    def _class_daemon(self, group: str, limits: Mapping[str, Any]) -> ClassDaemon:
        host = self._classes.get(group)
        if host is None:
            host = ClassDaemon(group, self.state_dir / "classes" / group, limits)
            self._classes[group] = host
        elif throttle_options(host.limits) != throttle_options(limits):
            raise DataPlaneError(f"class {group}: limits {dict(limits)} differ from its "
                                 f"other volumes' {host.limits}")
        return host

    async def _restart(self, vol: Volume) -> None:
        if vol.daemon is not None:
            await vol.daemon.stop()
        await self._start(vol)

    async def _discard(self, vol: Volume) -> None:
        if vol.daemon is not None:
            await vol.daemon.stop()
        for mountpoint in mounts.mounts_under(vol.folder):
            mounts.force_unmount(mountpoint)
        shutil.rmtree(vol.folder, ignore_errors=True)

    async def delete_volume(self, handle: str) -> None:
        """Stop the daemon, remove node entries and the folder; a missing volume is fine."""
        vol = self._volumes.pop(handle, None)
        if vol is None:
            return
        async with vol.lock:
            self._detach_all(vol)
            await self._discard(vol)

    # ---- copies -------------------------------------------------------------------

    async def _flush(self, vol: Volume) -> None:
        """Make every completed consumer write reach the image before it is copied.

        FUSE writes are answered only after the daemon wrote them into disk.raw's page
        cache, which `cp` reads; the fsync also drains anything the kernel may still
        hold for the export (cached or mmap'd writes) through the daemon's flush.
        """
        await asyncio.to_thread(_fsync_path, vol.export)

    async def record_birth(self, handle: str) -> None:
        """Keep a copy of the volume as it is now (for `snapshot-restores-stale-data`)."""
        vol = self._volume(handle)
        async with vol.lock:
            await self._flush(vol)
            birth = vol.folder / "birth.raw"
            birth.unlink(missing_ok=True)
            await copy_sparse(vol.disk, birth)
            vol.birth = Snapshot("birth", ImageRef(birth, vol.image.key, vol.header_bytes),
                                 vol.export_size, vol.capacity, vol.spec.volume_mode, handle)

    async def snapshot(self, handle: str, snapshot_id: str, *, from_birth: bool = False) -> None:
        """Copy the volume as it is now; `from_birth` copies the recorded birth instead."""
        check_name("snapshot id", snapshot_id)
        if snapshot_id in self._snapshots:
            if self._snapshots[snapshot_id].source == handle:
                return  # CreateSnapshot is idempotent
            raise DataPlaneError(f"snapshot {snapshot_id} already exists for another volume")
        vol = self._volume(handle)
        async with vol.lock:
            origin = await self._snapshot_origin(vol, from_birth)
            folder = self.state_dir / "snapshots" / snapshot_id
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            await copy_sparse(origin.image.path, folder / "disk.raw")
        image = ImageRef(folder / "disk.raw", origin.image.key, origin.image.header_bytes)
        snap = Snapshot(snapshot_id, image, origin.payload, origin.capacity,
                        origin.volume_mode, handle)
        snap.write_meta(folder)
        self._snapshots[snapshot_id] = snap

    async def _snapshot_origin(self, vol: Volume, from_birth: bool) -> Snapshot:
        if from_birth:
            if vol.birth is None:
                raise DataPlaneError(f"volume {vol.handle}: no birth recorded "
                                     "(call record_birth when provisioning)")
            return vol.birth
        await self._flush(vol)
        return Snapshot("live", vol.image, vol.export_size, vol.capacity,
                        vol.spec.volume_mode, vol.handle)

    async def delete_snapshot(self, snapshot_id: str) -> None:
        """Remove a snapshot's copy; a missing snapshot is fine (DeleteSnapshot is idempotent)."""
        self._snapshots.pop(snapshot_id, None)
        check_name("snapshot id", snapshot_id)
        shutil.rmtree(self.state_dir / "snapshots" / snapshot_id, ignore_errors=True)

    async def populate_from_volume(self, handle: str, source_handle: str, *,
                                   zeroes: bool = False) -> None:
        """Make `handle` a copy of `source_handle` (its daemon restarts around the copy).

        `zeroes` is the `clone-returns-zeroes` fault: the clone succeeds and holds only
        zeroes (written through the encryption when the volume is encrypted, so it
        reads as zeroes rather than as undecryptable noise).
        """
        target, source = self._volume(handle), self._volume(source_handle)
        if target is source:
            raise DataPlaneError(f"volume {handle}: cannot be populated from itself")
        origin = None
        if not zeroes:
            await self._flush(source)
            origin = Snapshot("clone", source.image, source.export_size, source.capacity,
                              source.spec.volume_mode, source_handle)
            if target.spec.volume_mode == "Filesystem" and \
                    target.export_size < origin.payload <= target.capacity:
                target.export_size = origin.payload  # as in _provision: CDI keeps the size
            self._check_fits(target, origin)
        async with target.lock:
            await self._refill(target, origin)

    async def _refill(self, vol: Volume, origin: Snapshot | None) -> None:
        assert vol.daemon is not None
        await vol.daemon.stop()
        try:
            await self._fill(vol, origin)
            if origin is None and vol.image.key is not None:
                await fill_zeroes(vol.image, vol.export_size)
        finally:
            await self._start(vol)
        self._refresh_nodes(vol)

    async def populate_from_file(self, handle: str, path: Path | str, *,
                                 progress: Progress | None = None) -> None:
        """Import a raw or qcow2 image file by writing it through the export."""
        vol = self._volume(handle)
        async with vol.lock:
            with ExportWriter(vol.export, vol.export_size, handle, progress) as writer:
                await import_file(Path(path), writer, vol.folder / "import.raw")

    async def populate_from_url(self, handle: str, url: str, *,
                                progress: Progress | None = None) -> None:
        """Import a raw or qcow2 image from http(s) by writing it through the export."""
        vol = self._volume(handle)
        async with vol.lock:
            with ExportWriter(vol.export, vol.export_size, handle, progress) as writer:
                await import_url(url, writer, vol.folder / "import.raw")

    # ---- expansion ----------------------------------------------------------------

    async def resize(self, handle: str, new_size_bytes: int, *,
                     visible_to_consumers: bool = True, grow_disk_img: bool = True) -> None:
        """Grow a volume; an open consumer sees the new size at once.

        `grow_disk_img=False` (Filesystem volumes on a cluster without KubeVirt's
        ExpandDisks gate): the claim's filesystem grows but nothing ever grows its
        disk.img, so the export keeps its size, also after a restart.

        `visible_to_consumers=False` is the `online-expansion-invisible-to-guest` fault,
        committed the way a driver that expands the backend but never tells the node
        does: the image file is grown behind the daemon's back (no `block_resize`). The
        daemon's file node keeps its cached length, so the running export still shows
        the old size (measured: it does not follow an external truncate). The next
        attach with no other node attached restarts the daemon, which then sees the
        new size, as a guest restart would.
        """
        vol = self._volume(handle)
        async with vol.lock:
            if new_size_bytes < vol.capacity:
                raise DataPlaneError(f"volume {handle}: cannot shrink from {vol.capacity} "
                                     f"to {new_size_bytes} bytes")
            new_export = vol.spec.export_size(new_size_bytes)
            vol.capacity = new_size_bytes
            if vol.spec.volume_mode == "Filesystem" and not grow_disk_img:
                new_export = vol.export_size
            if new_export > vol.export_size:
                await self._grow(vol, new_export, visible_to_consumers)
            self._refresh_nodes(vol)
            vol.write_meta()

    async def _grow(self, vol: Volume, new_export: int, visible: bool) -> None:
        assert vol.daemon is not None
        if visible:
            await vol.daemon.resize(new_export)
            await _wait_for_size(vol.export, new_export)
            vol.stale_export = False
        else:
            os.truncate(vol.disk, vol.header_bytes + new_export)
            vol.stale_export = True
        vol.export_size = new_export

    # ---- nodes --------------------------------------------------------------------

    async def attach(self, handle: str, node: str) -> NodeDevice:
        """Make the volume visible on `node` (idempotent; several nodes may attach)."""
        check_name("node", node)
        vol = self._volume(handle)
        async with vol.lock:
            if node in vol.attachments:
                return vol.attachments[node]
            if vol.stale_export and not vol.attachments:
                await self._restart(vol)  # a fresh attach sees what storage really holds
            device = self.nodes.attach(node, handle, disk=vol.disk, export=vol.export,
                                       declares_encryption=vol.spec.encrypt,
                                       block_mode=vol.spec.volume_mode == "Block")
            vol.attachments[node] = device
            vol.write_meta()
            return device

    async def detach(self, handle: str, node: str) -> None:
        """Remove the volume's entries from `node`; detaching twice is fine."""
        vol = self._volumes.get(handle)
        device = vol.attachments.pop(node, None) if vol else None
        if vol is not None and device is not None:
            self.nodes.detach(device)
            vol.write_meta()

    def _detach_all(self, vol: Volume) -> None:
        for device in vol.attachments.values():
            self.nodes.detach(device)
        vol.attachments.clear()

    def _refresh_nodes(self, vol: Volume) -> None:
        for device in vol.attachments.values():
            self.nodes.refresh(device)

    async def device_path(self, handle: str, node: str) -> Path:
        """What a consumer on `node` opens: the (decrypted) block device, or for a
        Filesystem volume its `disk.img` (whose folder is what a pod mounts)."""
        return self._attachment(handle, node).device_path

    async def raw_path(self, handle: str, node: str) -> Path:
        """The disk below any encryption, as `node`'s kernel sees it (dev/lab<i>)."""
        return self._attachment(handle, node).raw_path

    async def export_path(self, handle: str) -> Path:
        return self._volume(handle).export

    def allocated_bytes(self, handle: str) -> int:
        """Bytes the volume's image really holds (holes excluded): what a copy moves."""
        return self._volume(handle).disk.stat().st_blocks * 512

    async def volume_size(self, handle: str) -> int:
        """The volume's capacity in bytes (what the PV reports)."""
        return self._volume(handle).capacity

    def _attachment(self, handle: str, node: str) -> NodeDevice:
        device = self._volume(handle).attachments.get(node)
        if device is None:
            raise DataPlaneError(f"volume {handle} is not attached to node {node}")
        return device

    # ---- lookups and shutdown -----------------------------------------------------

    def _volume(self, handle: str) -> Volume:
        vol = self._volumes.get(handle)
        if vol is None:
            known = ", ".join(sorted(self._volumes)) or "none"
            raise DataPlaneError(f"volume {handle} not found (volumes: {known})")
        return vol

    def _snapshot(self, snapshot_id: str) -> Snapshot:
        snap = self._snapshots.get(snapshot_id)
        if snap is None:
            raise DataPlaneError(f"snapshot {snapshot_id} not found")
        return snap

    def daemon_pids(self) -> list[int]:
        """Pids of the running daemons, each once (a class's daemon serves many volumes)."""
        pids = {v.daemon.pid for v in self._volumes.values()
                if v.daemon is not None and v.daemon.pid is not None and v.daemon.alive()}
        return sorted(pids)

    async def shutdown(self) -> None:
        """Stop every daemon and leave no FUSE mount under the state dir.

        Volume folders and snapshots stay on disk for inspection; node entries go.
        """
        volumes = list(self._volumes.values())
        self._volumes.clear()
        for vol in volumes:
            self._detach_all(vol)
        own = [v.daemon for v in volumes if isinstance(v.daemon, Daemon)]
        await asyncio.gather(*(d.stop() for d in own), *(c.stop() for c in self._classes.values()),
                             return_exceptions=True)
        self._classes.clear()
        for mountpoint in mounts.mounts_under(self.state_dir):
            mounts.force_unmount(mountpoint)


async def _wait_for_size(export: Path, size: int) -> None:
    """block_resize returns before the kernel's cached attributes may have caught up."""
    deadline = time.monotonic() + _RESIZE_VISIBLE_TIMEOUT_S
    while os.stat(export).st_size != size:
        if time.monotonic() > deadline:
            raise DataPlaneError(f"{export}: still {os.stat(export).st_size} bytes after "
                                 f"growing to {size}")
        await asyncio.sleep(0.01)
