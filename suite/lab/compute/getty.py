"""The lab guest's PID 1 and getty, run on the guest's pseudo-terminal.

Started as `unshare --mount --propagation slave python3 getty.py CONFIG.json` by the lab
(a session leader in its own mount namespace; a slave of the host's, so volumes the host
unmounts are not held open by the guest). It plays what a cloud image does at boot: apply
cloud-init's `write_files` (visible only inside this namespace, through overlay mounts
over the target folders), hide tools the image lacks, run `runcmd`, then offer a serial
login that starts an interactive POSIX shell, and come back to `login:` when it exits.

Standalone on purpose: it must not import the lab (it runs in its own process).
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Any

GUEST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def say(text: str) -> None:
    os.write(1, text.encode())


def take_terminal() -> None:
    """Make the PTY our controlling terminal so the shell gets job control and ^C."""
    with contextlib.suppress(OSError):
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    signal.signal(signal.SIGTTIN, signal.SIG_IGN)


def existing_ancestor(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path


def overlay(target: Path, work: Path, done: set[Path]) -> None:
    """Put a private writable layer over `target`; writes stay in this namespace."""
    if target in done or target == Path("/"):
        return
    index = len(done)
    upper, scratch = work / f"ov{index}" / "u", work / f"ov{index}" / "w"
    upper.mkdir(parents=True, exist_ok=True)
    scratch.mkdir(parents=True, exist_ok=True)
    options = f"lowerdir={target},upperdir={upper},workdir={scratch}"
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, str(target)],
                   check=True, capture_output=True)
    done.add(target)


def hides_lab(target: Path, config: dict[str, Any]) -> bool:
    """An overlay on an ancestor of the lab's state folder would hide the volumes' FUSE
    exports from the guest, so such files are refused (said on the console)."""
    state = Path(config["protect"])
    return target == state or target in state.parents


def apply_files(config: dict[str, Any], work: Path) -> None:
    done: set[Path] = set()
    files = []
    for item in config["files"]:
        if hides_lab(existing_ancestor(Path(item["path"]).parent), config):
            say(f"cloud-init: write_files: {item['path']} cannot be written in the lab guest "
                "(its folder holds the lab's volumes)\n")
        else:
            files.append(item)
    targets = {existing_ancestor(Path(f["path"]).parent) for f in files}
    for tool in config.get("hide", []):
        found = shutil.which(tool, path=GUEST_PATH)
        if found:
            targets.add(Path(found).resolve().parent)
    for target in sorted(targets, key=lambda p: len(p.parts)):
        overlay(target, work, done)
    for tool in config.get("hide", []):
        for folder in GUEST_PATH.split(":"):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, tool))
    for item in files:
        path = Path(item["path"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(item["content"]))
        os.chmod(path, item.get("permissions", 0o644))


def run_commands(config: dict[str, Any], env: dict[str, str]) -> None:
    for command in config.get("runcmd", []):
        subprocess.run(["/bin/sh", "-c", command], env=env, stdin=subprocess.DEVNULL,
                       check=False)


def read_line(echo: bool) -> str | None:
    attrs = termios.tcgetattr(0)
    if not echo:
        quiet = list(attrs)
        quiet[3] &= ~termios.ECHO
        termios.tcsetattr(0, termios.TCSANOW, quiet)
    try:
        data = b""
        while not data.endswith(b"\n"):
            chunk = os.read(0, 1)
            if not chunk:
                return None
            data += chunk
        return data.decode(errors="replace").strip("\r\n")
    finally:
        termios.tcsetattr(0, termios.TCSANOW, attrs)


def shell_env(config: dict[str, Any], user: str) -> dict[str, str]:
    prompt = "# " if user == "root" else "$ "
    return {"PATH": GUEST_PATH, "HOME": config["home"], "USER": user, "LOGNAME": user,
            "SHELL": "/bin/sh", "TERM": "vt100", "PROBE_DEV_ROOT": config["dev_root"],
            "TMPDIR": config.get("tmp", "/tmp"),
            "PS1": f"[{user}@{config['name']} ~]{prompt}"}


def run_shell(config: dict[str, Any], user: str) -> None:
    env = shell_env(config, user)
    child = subprocess.Popen(["/bin/sh", "-i"], env=env, cwd=config["home"])
    child.wait()
    with contextlib.suppress(OSError):
        os.tcsetpgrp(0, os.getpgrp())


def login_loop(config: dict[str, Any]) -> None:
    credentials: dict[str, str] = config["credentials"]
    while True:
        say(f"\n{config['name']} login: ")
        user = read_line(echo=True)
        if user is None:
            time.sleep(0.2)
            continue
        if not user:
            continue
        say("Password: ")
        password = read_line(echo=False)
        say("\n")
        if user in credentials and credentials[user] == password:
            run_shell(config, user)
        else:
            time.sleep(0.5)
            say("Login incorrect\n")


def die_with_the_lab() -> None:
    """If the lab process dies without cleaning up (SIGKILL), take this process along."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def main() -> None:
    die_with_the_lab()
    config = json.loads(Path(sys.argv[1]).read_text())
    take_terminal()
    work = Path(config["work"])
    Path(config["home"]).mkdir(parents=True, exist_ok=True)
    say(f"[  OK  ] Started lab guest {config['name']}.\n")
    try:
        apply_files(config, work)
    except (OSError, subprocess.CalledProcessError) as exc:
        say(f"cloud-init: write_files failed: {exc}\n")
    run_commands(config, shell_env(config, "root"))
    say(f"cloud-init: modules:final finished for {config['name']}\n")
    login_loop(config)


if __name__ == "__main__":
    main()
