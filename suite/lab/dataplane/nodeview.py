"""Each lab node's view of its attached volumes, laid out like a real node's /dev and /sys.

Node-level checks written for real nodes (is this disk behind dm-crypt? how big is
it?) run unchanged against `state_dir/nodes/<node>/` as the node's root. Device
entries are symlinks to absolute host paths, so a pod that sees the state folder at
the same path can open them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NodeDevice:
    """One volume as one node sees it."""

    node: str
    handle: str
    device_path: Path  # what a consumer opens (decrypted)
    raw_path: Path  # the disk below any encryption, as the node's kernel sees it
    disk_name: str  # lab<i>
    dm_name: str | None  # dm-<k> when the class declares encryption


def _free_index(folder: Path, prefix: str) -> int:
    taken = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    index = 0
    while f"{prefix}{index}" in taken:
        index += 1
    return index


def _symlink(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(target)


def _sectors(path: Path) -> str:
    return f"{os.stat(path).st_size // 512}\n"


class NodeView:
    """Creates and removes the /dev and /sys entries of attachments."""

    def __init__(self, nodes_dir: Path) -> None:
        self.nodes_dir = nodes_dir

    def root(self, node: str) -> Path:
        return self.nodes_dir / node

    def attach(self, node: str, handle: str, *, disk: Path, export: Path,
               declares_encryption: bool, block_mode: bool) -> NodeDevice:
        """Add lab<i> (and dm-<k> + mapper/luks-<H> when encrypted) to the node."""
        root = self.root(node)
        (root / "dev").mkdir(parents=True, exist_ok=True)
        disk_name = f"lab{_free_index(root / 'dev', 'lab')}"
        _symlink(root / "dev" / disk_name, disk if declares_encryption else export)
        dm_name = None
        if declares_encryption:
            dm_name = f"dm-{_free_index(root / 'sys' / 'block', 'dm-')}"
            self._add_mapper(root, handle, disk_name, dm_name, export)
        device = root / "dev" / (f"mapper/luks-{handle}" if dm_name else disk_name)
        consumer_path = device if block_mode else export
        attached = NodeDevice(node, handle, consumer_path, root / "dev" / disk_name,
                              disk_name, dm_name)
        self.refresh(attached)
        return attached

    def _add_mapper(self, root: Path, handle: str, disk_name: str, dm_name: str,
                    export: Path) -> None:
        name = f"luks-{handle}"
        _symlink(root / "dev" / dm_name, export)
        _symlink(root / "dev" / "mapper" / name, export)
        dm = root / "sys" / "block" / dm_name
        (dm / "dm").mkdir(parents=True, exist_ok=True)
        (dm / "dm" / "name").write_text(f"{name}\n")
        luks_uuid = uuid.uuid5(uuid.NAMESPACE_URL, f"lab-luks:{handle}").hex
        (dm / "dm" / "uuid").write_text(f"CRYPT-LUKS2-{luks_uuid}-{name}\n")
        _symlink(dm / "slaves" / disk_name, Path("../../") / disk_name)
        _symlink(root / "sys" / "block" / disk_name / "holders" / dm_name,
                 Path("../../") / dm_name)

    def refresh(self, device: NodeDevice) -> None:
        """Rewrite the size files (512-byte sectors) from what the devices hold now."""
        block = self.root(device.node) / "sys" / "block"
        (block / device.disk_name).mkdir(parents=True, exist_ok=True)
        (block / device.disk_name / "size").write_text(_sectors(device.raw_path))
        if device.dm_name:
            mapper = self.root(device.node) / "dev" / device.dm_name
            (block / device.dm_name / "size").write_text(_sectors(mapper))

    def detach(self, device: NodeDevice) -> None:
        """Remove every entry `attach` made."""
        root = self.root(device.node)
        (root / "dev" / device.disk_name).unlink(missing_ok=True)
        shutil.rmtree(root / "sys" / "block" / device.disk_name, ignore_errors=True)
        if device.dm_name:
            (root / "dev" / device.dm_name).unlink(missing_ok=True)
            (root / "dev" / "mapper" / f"luks-{device.handle}").unlink(missing_ok=True)
            shutil.rmtree(root / "sys" / "block" / device.dm_name, ignore_errors=True)
