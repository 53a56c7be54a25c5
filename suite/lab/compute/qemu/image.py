"""Where the QEMU guest image lives: built at setup time, cached outside the repository.

The image (a kernel and an initramfs) is never committed; `scripts/build_guest_initramfs.sh`
assembles it from Debian packages into `$KVSTORAGE_CACHE/guest` (default
`~/.cache/kvstorage/guest`). A lab asked for QEMU guests without it fails in one line
that names the script.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

BUILD_SCRIPT = "scripts/build_guest_initramfs.sh"


class GuestImageMissing(RuntimeError):
    """QEMU guests were asked for but the image or QEMU is not on this machine."""


@dataclass(frozen=True)
class GuestImage:
    kernel: Path
    initrd: Path
    kernel_version: str


def cache_dir() -> Path:
    root = os.environ.get("KVSTORAGE_CACHE") or str(Path.home() / ".cache" / "kvstorage")
    return Path(root) / "guest"


def find_image(folder: Path | None = None) -> GuestImage:
    """The built image, or GuestImageMissing with the one command that builds it."""
    folder = folder or cache_dir()
    kernel, initrd = folder / "vmlinuz", folder / "initramfs.gz"
    if not (kernel.is_file() and initrd.is_file()):
        raise GuestImageMissing(f"QEMU guests need the guest image in {folder}: run "
                                f"{BUILD_SCRIPT} (or scripts/setup.sh) first")
    if shutil.which("qemu-system-x86_64") is None:
        raise GuestImageMissing("QEMU guests need qemu-system-x86_64: run scripts/setup.sh "
                                "(it installs qemu-system-x86)")
    version_file = folder / "kernel-version"
    version = version_file.read_text().strip() if version_file.exists() else "unknown"
    return GuestImage(kernel, initrd, version)
