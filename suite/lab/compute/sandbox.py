"""A lab pod's container sandbox: a private mount namespace and a chroot.

Run as `unshare --mount --propagation slave python3 sandbox.py SPEC.json`. It builds
the container's root from bind mounts of the host's system folders (the lab has no
images: a container's tools are the host's), adds the pod's volumes (a hostPath is a
path in the node's view, `state_dir/nodes/<node>/...`), bind-mounts the lab state folder
at its own absolute path so the node view's absolute symlinks resolve, then chroots and
execs the container command. Every mount lives and dies with the namespace; the
namespace is a slave of the host's, so a volume the host unmounts (a FUSE export being
shut down) leaves the sandbox too instead of being held open by it.

Standalone on purpose: it must not import the lab.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

SYSTEM = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "opt")
KERNEL = ("proc", "dev", "sys")


def bind(source: Path, target: Path, read_only: bool = False) -> None:
    if source.is_dir():
        target.mkdir(parents=True, exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch(exist_ok=True)
    subprocess.run(["mount", "--rbind", str(source), str(target)], check=True)
    if read_only:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(target)], check=True)


def system_folders(root: Path) -> None:
    for name in SYSTEM + KERNEL:
        host = Path("/") / name
        if host.is_symlink():
            (root / name).symlink_to(os.readlink(host))
        elif host.is_dir():
            bind(host, root / name)
    tmp = root / "tmp"
    tmp.mkdir(exist_ok=True)
    tmp.chmod(0o1777)


def die_with_the_lab() -> None:
    """If the lab process dies without cleaning up (SIGKILL), take this process along."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def main() -> None:
    die_with_the_lab()
    spec = json.loads(Path(sys.argv[1]).read_text())
    root = Path(spec["root"])
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "--make-rslave", "/"], check=True)
    system_folders(root)
    state = Path(spec["state_dir"])
    bind(state, root / state.relative_to("/"))
    for mount in spec["mounts"]:
        bind(Path(mount["source"]), root / mount["target"].lstrip("/"),
             mount.get("readOnly", False))
    os.chroot(root)
    workdir = spec.get("workdir") or "/"
    os.makedirs(workdir, exist_ok=True)
    os.chdir(workdir)
    command = spec["command"]
    try:
        os.execvpe(command[0], command, spec["env"])
    except OSError as exc:
        print(f'exec: "{command[0]}": {exc.strerror}', file=sys.stderr)
        sys.exit(127)


if __name__ == "__main__":
    main()
