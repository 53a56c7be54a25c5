"""Snapshots, restores, clones and imports hold real copies of the right bytes, and the
storage faults lie the way a buggy driver would (the call succeeds, the bytes are wrong)."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from dphelpers import KEY, OTHER_KEY, MiB, Plane, contains, read_at, write_at

from suite.lab.dataplane import DataPlaneError

BEFORE = b"written-before-the-snapshot" * 100
AFTER = b"written-after-the-snapshot!" * 100


@pytest.mark.slow
def test_restore_holds_the_bytes_of_snapshot_time(plane: Plane) -> None:
    dp = plane.dp
    export = plane.run(dp.create_volume("src", 32 * MiB, volume_mode="Block",
                                        encrypt=True, key=KEY))
    with open(export, "r+b") as consumer:  # buffered, closed without fsync
        consumer.seek(4 * MiB)
        consumer.write(BEFORE)
    plane.run(dp.snapshot("src", "snap-1"))
    write_at(export, 4 * MiB, AFTER)
    restored = plane.run(dp.restore("snap-1", "restored", 48 * MiB, volume_mode="Block",
                                    encrypt=True, key=KEY))
    assert read_at(restored, 4 * MiB, len(BEFORE)) == BEFORE
    assert restored.stat().st_size == 48 * MiB
    assert read_at(export, 4 * MiB, len(AFTER)) == AFTER  # the source moved on
    assert not contains(plane.state_dir / "snapshots/snap-1/disk.raw", b"written-before")
    with pytest.raises(DataPlaneError, match="needs at least"):
        plane.run(dp.restore("snap-1", "tiny", 16 * MiB, volume_mode="Block"))


@pytest.mark.slow
def test_restore_into_a_class_with_another_key(plane: Plane) -> None:
    dp = plane.dp
    export = plane.run(dp.create_volume("k1", 8 * MiB, volume_mode="Block",
                                        encrypt=True, key=KEY))
    write_at(export, MiB, BEFORE)
    plane.run(dp.snapshot("k1", "snap-k1"))
    rekeyed = plane.run(dp.restore("snap-k1", "k2", 8 * MiB, volume_mode="Block",
                                   encrypt=True, key=OTHER_KEY))
    plain = plane.run(dp.restore("snap-k1", "plain", 8 * MiB, volume_mode="Block"))
    assert read_at(rekeyed, MiB, len(BEFORE)) == BEFORE
    assert read_at(plain, MiB, len(BEFORE)) == BEFORE
    assert not contains(plane.state_dir / "volumes/k2/disk.raw", b"written-before")


def test_stale_snapshot_fault_restores_the_birth_bytes(plane: Plane) -> None:
    dp = plane.dp
    export = plane.run(dp.create_volume("born", 16 * MiB, volume_mode="Filesystem"))
    plane.run(dp.record_birth("born"))
    write_at(export, 2 * MiB, BEFORE)
    plane.run(dp.snapshot("born", "stale", from_birth=True))
    restored = plane.run(dp.restore("stale", "from-stale", 16 * MiB,
                                    volume_mode="Filesystem"))
    assert read_at(restored, 2 * MiB, len(BEFORE)) == bytes(len(BEFORE))
    plane.run(dp.snapshot("born", "honest"))
    honest = plane.run(dp.restore("honest", "from-honest", 16 * MiB,
                                  volume_mode="Filesystem"))
    assert read_at(honest, 2 * MiB, len(BEFORE)) == BEFORE


def test_clone_copies_the_source_and_then_lives_apart(plane: Plane) -> None:
    dp = plane.dp
    source = plane.run(dp.create_volume("origin", 16 * MiB, volume_mode="Block"))
    write_at(source, 0, BEFORE)
    clone = plane.run(dp.create_volume("clone", 32 * MiB, volume_mode="Block"))
    plane.run(dp.populate_from_volume("clone", "origin"))
    assert read_at(clone, 0, len(BEFORE)) == BEFORE
    assert clone.stat().st_size == 32 * MiB
    write_at(source, 0, AFTER)
    assert read_at(clone, 0, len(BEFORE)) == BEFORE


def test_clone_into_an_encrypted_class_encrypts(plane: Plane) -> None:
    dp = plane.dp
    source = plane.run(dp.create_volume("open", 8 * MiB, volume_mode="Block"))
    write_at(source, MiB, BEFORE)
    clone = plane.run(dp.create_volume("sealed", 8 * MiB, volume_mode="Block",
                                       encrypt=True, key=KEY))
    plane.run(dp.populate_from_volume("sealed", "open"))
    assert read_at(clone, MiB, len(BEFORE)) == BEFORE
    assert not contains(plane.state_dir / "volumes/sealed/disk.raw", b"written-before")


@pytest.mark.parametrize("encrypt", [False, True], ids=["plain", "luks"])
def test_zeroes_fault_clones_an_all_zero_volume(plane: Plane, encrypt: bool) -> None:
    dp = plane.dp
    source = plane.run(dp.create_volume("full", 8 * MiB, volume_mode="Block"))
    write_at(source, 0, os.urandom(8 * MiB))
    clone = plane.run(dp.create_volume("empty", 8 * MiB, volume_mode="Block",
                                       encrypt=encrypt, key=KEY))
    write_at(clone, 0, b"old contents")
    plane.run(dp.populate_from_volume("empty", "full", zeroes=True))
    assert clone.stat().st_size == 8 * MiB
    assert clone.read_bytes() == bytes(8 * MiB)


@pytest.fixture
def images(tmp_path: Path) -> dict[str, Path]:
    """A 6 MiB raw image with a pattern and a hole, and the same image as qcow2."""
    raw = tmp_path / "image.raw"
    with open(raw, "wb") as image:
        image.write(os.urandom(2 * MiB))
        image.seek(4 * MiB)
        image.write(b"IMPORTED-MARKER-" * 65536)
    qcow2 = tmp_path / "image.qcow2"
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(qcow2)],
                   check=True)
    return {"raw": raw, "qcow2": qcow2}


def digest_of(path: Path, length: int) -> str:
    return hashlib.sha256(read_at(path, 0, length)).hexdigest()


@pytest.mark.parametrize("kind", ["raw", "qcow2"])
def test_import_from_a_file_writes_through_the_encryption(
        plane: Plane, images: dict[str, Path], kind: str) -> None:
    dp = plane.dp
    export = plane.run(dp.create_volume("imported", 16 * MiB, volume_mode="Block",
                                        encrypt=True, key=KEY))
    seen: list[int] = []
    plane.run(dp.populate_from_file("imported", images[kind],
                                    progress=lambda done, total: seen.append(done)))
    raw = images["raw"]
    assert digest_of(export, raw.stat().st_size) == digest_of(raw, raw.stat().st_size)
    assert seen[-1] == raw.stat().st_size
    assert not contains(plane.state_dir / "volumes/imported/disk.raw", b"IMPORTED-MARKER-")
    assert not list((plane.state_dir / "volumes/imported").glob("import*"))


@pytest.fixture
def image_server(images: dict[str, Path]) -> Iterator[str]:
    """A loopback HTTP server (aiohttp, port 0) serving the test images, in a thread."""
    import asyncio
    import threading

    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_static("/images/", images["raw"].parent)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    loop.run_until_complete(web.SockSite(runner, sock).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/images"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.mark.parametrize("kind", ["raw", "qcow2"])
def test_import_from_a_url(plane: Plane, images: dict[str, Path], image_server: str,
                           kind: str) -> None:
    dp = plane.dp
    export = plane.run(dp.create_volume("fetched", 16 * MiB, volume_mode="Filesystem"))
    plane.run(dp.populate_from_url("fetched", f"{image_server}/{images[kind].name}"))
    size = images["raw"].stat().st_size
    assert digest_of(export, size) == digest_of(images["raw"], size)
    with pytest.raises(DataPlaneError, match="HTTP 404"):
        plane.run(dp.populate_from_url("fetched", f"{image_server}/missing.img"))


def test_an_image_larger_than_the_volume_is_refused(plane: Plane,
                                                    images: dict[str, Path]) -> None:
    plane.run(plane.dp.create_volume("small", 4 * MiB, volume_mode="Block"))
    with pytest.raises(DataPlaneError, match="does not fit"):
        plane.run(plane.dp.populate_from_file("small", images["raw"]))
