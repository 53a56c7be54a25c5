"""Disk images on the host: sizes, blank images, sparse copies and conversions.

Everything that touches an image while no daemon serves it lives here, driven through
`qemu-img` and `cp` so the bytes are handled by the same tools an operator would use.
Keys never go on a command line or to disk: each tool reads them from a pipe
(`/dev/fd/N`), the way `--object secret,file=` is meant to be fed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import DataPlaneError

MiB = 1 << 20
_PIPE_SAFE_BYTES = 60_000  # a pipe holds 64 KiB; larger keys would block the writer
# QEMU's default LUKS iteration time is 2 s per open; 10 ms keeps a 1 s budget per volume.
_LUKS_ITER_TIME_MS = 10
_MAX_RANGES = 64  # beyond this, one whole-image conversion beats many small ones
_MERGE_GAP = 4 * MiB
_ALIGN = 4096
_SBIN = "/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin"


def export_size_for(capacity: int, volume_mode: str, fs_overhead: float) -> int:
    """Bytes a consumer sees: the whole volume (Block), or for Filesystem the `disk.img`
    KubeVirt sizes (kubevirt pkg/virt-launcher/virtwrap/manager.go `possibleGuestSize`):
    the usable space of the claim's filesystem, min(capacity, used + available), minus
    CDI's filesystem overhead, aligned down to 1 MiB (pkg/util AlignImageSizeTo1MiB).
    A fresh ext4 offers less than its size (journal, inode tables), so on small claims
    the guest sees well under capacity x (1 - overhead)."""
    if volume_mode == "Block":
        return capacity
    usable = min(capacity, ext4_available(capacity))
    return int((1.0 - fs_overhead) * usable) // MiB * MiB


@functools.lru_cache(maxsize=128)
def ext4_available(capacity: int) -> int:
    """statfs f_bavail x f_bsize of a fresh ext4 filling `capacity` bytes, formatted as
    CSI node plugins do through k8s.io/mount-utils (`mkfs.ext4 -F -m0`: no blocks kept
    for root). Measured: made on a sparse file, read with dumpe2fs; disk.img's own blocks
    count as used + available alike, so this is the usable space. Without e2fsprogs, 5 %
    is taken off for the journal and inode tables."""
    mkfs = shutil.which("mkfs.ext4", path=_SBIN)
    dumpe2fs = shutil.which("dumpe2fs", path=_SBIN)
    if mkfs is None or dumpe2fs is None:
        return capacity - capacity // 20
    with tempfile.TemporaryDirectory(prefix="kvs-ext4-") as folder:
        image = Path(folder) / "fs.img"
        with open(image, "wb") as handle:
            handle.truncate(capacity)
        subprocess.run([mkfs, "-q", "-F", "-m0", str(image)], check=True,
                       capture_output=True)
        header = subprocess.run([dumpe2fs, "-h", str(image)], check=True, capture_output=True,
                                text=True).stdout
    fields = dict(line.split(":", 1) for line in header.splitlines() if ":" in line)
    free = int(fields["Free blocks"])
    reserved = int(fields["Reserved block count"])
    return (free - reserved) * int(fields["Block size"])


@dataclass(frozen=True)
class ImageRef:
    """An image file and how to read it: plain raw (key None) or LUKS with `key`."""

    path: Path
    key: bytes | None = None
    header_bytes: int = 0

    def opts(self, secret_id: str, window: tuple[int, int] | None = None) -> str:
        """The `--image-opts` string that opens this image, or `(offset, length)` of it."""
        file_part = f"file.driver=file,file.filename={escape(str(self.path))}"
        if self.key is None:
            opts = f"driver=raw,{file_part}"
        else:
            opts = f"driver=luks,key-secret={secret_id},{file_part}"
        if window is None:
            return opts
        return f"driver=raw,offset={window[0]},size={window[1]}," + ",".join(
            f"file.{option}" for option in opts.split(","))


def escape(value: str) -> str:
    """QEMU's option syntax doubles commas inside values."""
    return value.replace(",", ",,")


@contextlib.contextmanager
def key_pipes(keys: Sequence[bytes]) -> Iterator[list[int]]:
    """Pipes already holding each key, read ends returned for `pass_fds`."""
    read_ends: list[int] = []
    try:
        for key in keys:
            if len(key) > _PIPE_SAFE_BYTES:
                raise DataPlaneError(f"encryption key of {len(key)} bytes is too long")
            read_end, write_end = os.pipe()
            read_ends.append(read_end)
            os.write(write_end, key)
            os.close(write_end)
        yield read_ends
    finally:
        for fd in read_ends:
            os.close(fd)


def secret_args(fds: Sequence[int]) -> list[str]:
    """`--object secret` options named sec0, sec1, ... reading from the pipes."""
    args: list[str] = []
    for i, fd in enumerate(fds):
        args += ["--object", f"secret,id=sec{i},file=/dev/fd/{fd},format=raw"]
    return args


async def run_tool(argv: Sequence[str], keys: Sequence[bytes] = ()) -> str:
    """Run a tool to completion; a failure raises with the tool's last error line.

    Keys become `--object secret` options placed after the subcommand (`qemu-img X`).
    """
    with key_pipes(keys) as fds:
        argv = [*argv[:2], *secret_args(fds), *argv[2:]]
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, pass_fds=fds)
        try:
            out, err = await proc.communicate()
        except asyncio.CancelledError:
            # A lab stopping mid-operation must not leave the tool running (it would
            # keep writing into a state folder that is about to be removed).
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise
    if proc.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines() or ["(no output)"]
        raise DataPlaneError(f"{Path(argv[0]).name} failed: {lines[-1]}")
    return out.decode(errors="replace")


async def copy_sparse(source: Path, target: Path) -> None:
    """A real, independent copy whose holes stay holes (ext4 here offers no reflink)."""
    await run_tool(["cp", "--sparse=always", str(source), str(target)])


def make_plain(path: Path, size: int) -> None:
    """A sparse raw image: costs no disk space until written."""
    with open(path, "wb") as image:
        image.truncate(size)


async def convert(source: ImageRef, target: ImageRef, payload: int, *,
                  target_is_zero: bool) -> None:
    """Copy the plaintext of `source` into the existing `target` image (qemu-img -n).

    `-U` lets it read a source a running daemon still holds; when the target reads as
    zeroes already (a fresh sparse raw file), zero areas are skipped to keep it sparse.
    A LUKS source is copied only where its file has blocks: a hole was never written,
    so it holds no data, and decrypting then re-encrypting it would cost seconds per GiB.
    """
    ranges = data_ranges(source, payload) if source.key is not None else None
    if ranges is None or len(ranges) > _MAX_RANGES:
        await _convert(source, target, None, target_is_zero)
        return
    for window in ranges:
        await _convert(source, target, window, target_is_zero)


async def _convert(source: ImageRef, target: ImageRef, window: tuple[int, int] | None,
                   target_is_zero: bool) -> None:
    keys = [k for k in (source.key, target.key) if k is not None]
    source_id, target_id = "sec0", ("sec1" if source.key is not None else "sec0")
    # -W (out-of-order writes) measured 2x faster here when re-encrypting
    argv = ["qemu-img", "convert", "-U", "-W", "-n", "--image-opts",
            source.opts(source_id, window), "--target-image-opts",
            target.opts(target_id, window)]
    if target_is_zero:
        argv.insert(5, "--target-is-zero")
    await run_tool(argv, keys)


def data_ranges(image: ImageRef, payload: int) -> list[tuple[int, int]]:
    """(offset, length) ranges of the payload backed by blocks of the image file.

    Ranges closer than a few MiB are merged, so a busy image gives a few large ranges.
    """
    ranges: list[tuple[int, int]] = []
    fd = os.open(image.path, os.O_RDONLY)
    try:
        offset, end = image.header_bytes, image.header_bytes + payload
        while offset < end:
            try:
                start = os.lseek(fd, offset, os.SEEK_DATA)
            except OSError:  # ENXIO: no data after offset
                break
            if start >= end:
                break
            offset = min(os.lseek(fd, start, os.SEEK_HOLE), end)
            _add_range(ranges, start - image.header_bytes, offset - image.header_bytes,
                       payload)
    finally:
        os.close(fd)
    return ranges


def _add_range(ranges: list[tuple[int, int]], start: int, stop: int, payload: int) -> None:
    start, stop = start // _ALIGN * _ALIGN, min(-(-stop // _ALIGN) * _ALIGN, payload)
    if ranges and start - sum(ranges[-1]) < _MERGE_GAP:
        ranges[-1] = (ranges[-1][0], max(stop, sum(ranges[-1])) - ranges[-1][0])
    else:
        ranges.append((start, stop - start))


async def fill_zeroes(target: ImageRef, payload: int) -> None:
    """Write zeroes over the whole payload, through the encryption when there is some."""
    null = f"driver=null-co,size={payload},read-zeroes=on"
    keys = [target.key] if target.key is not None else []
    await run_tool(["qemu-img", "convert", "-W", "-n", "--image-opts", null,
                    "--target-image-opts", target.opts("sec0")], keys)


class LuksHeaders:
    """One LUKS header per key, made once and copied into every new encrypted image.

    `qemu-img create -f luks` spends about 2 s benchmarking PBKDF2 whatever the
    iteration time, which would make provisioning slow; copying a header made with the
    same key gives the same container in milliseconds. Volumes made with one key
    therefore share a master key, as clones of one LUKS device do.
    """

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._locks: dict[str, asyncio.Lock] = {}

    async def header_for(self, key: bytes) -> Path:
        digest = hashlib.sha256(key).hexdigest()[:16]
        path = self._folder / f"{digest}.luks"
        async with self._locks.setdefault(digest, asyncio.Lock()):
            if not path.exists():
                await self._make(path, key)
        return path

    async def _make(self, path: Path, key: bytes) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        await run_tool(["qemu-img", "create", "-q", "-f", "luks", "-o",
                        f"key-secret=sec0,iter-time={_LUKS_ITER_TIME_MS}",
                        str(partial), "0"], [key])
        partial.rename(path)

    async def make_image(self, path: Path, key: bytes, payload: int) -> ImageRef:
        """A new LUKS image at `path` whose decrypted size is `payload`."""
        header = await self.header_for(key)
        await copy_sparse(header, path)
        header_bytes = header.stat().st_size
        os.truncate(path, header_bytes + payload)
        return ImageRef(path, key, header_bytes)
