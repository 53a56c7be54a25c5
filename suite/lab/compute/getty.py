"""The lab guest's PID 1 and getty, run on the guest's pseudo-terminal.

Started as `unshare --mount --propagation slave python3 getty.py CONFIG.json` by the lab
(a session leader in its own mount namespace; a slave of the host's, so volumes the host
unmounts are not held open by the guest). It plays what a cloud image does at boot: apply
cloud-init's `write_files` (visible only inside this namespace, through overlay mounts
over the target folders) and hide tools the image lacks, then offer a serial login that
starts an interactive POSIX shell, and come back to `login:` when it exits. As on a real
VM, login works before cloud-init's final stage ends: `packages:` (installed only when
the cluster is connected; air-gapped, the install fails and cloud-init logs it as its
package module does), `runcmd` and the closing "Cloud-init v. ... finished" line run
in the background and reach the console after the login prompt. `cloud-init status
[--wait]` in the guest reports running / done / error.

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
import threading
import time
from pathlib import Path
from typing import Any

GUEST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CLOUD_INIT_VERSION = "24.2-3.fc41"
CLOUD_INIT_TOOL = "/usr/local/bin/cloud-init"
INSTALL_S = 1.0  # dnf resolving and installing (kept short: the lab's tests wait for it)
FINAL_DELAY_S = 0.8  # cloud-final starts a moment after the getty
MIRROR = "https://mirrors.fedoraproject.org/metalink?repo=fedora-41&arch=x86_64"
STARTED = time.monotonic()


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


def status_tool(status_file: str) -> str:
    """The guest's `cloud-init` command: `status [--wait] [--long]` as cloud-init prints it
    (dots while waiting; exit 1 when a module failed)."""
    return f"""#!/bin/sh
state={status_file}
if [ "$1" != status ]; then
  echo "cloud-init: only 'status' is available in this guest" >&2; exit 2
fi
shift
wait=0
for arg in "$@"; do case "$arg" in -w|--wait) wait=1;; esac; done
if [ "$wait" = 1 ]; then
  while [ "$(cat "$state" 2>/dev/null)" = running ]; do printf .; sleep 0.25; done
  echo
fi
result=$(cat "$state" 2>/dev/null || echo running)
echo "status: $result"
[ "$result" = error ] && exit 1
exit 0
"""


def apply_files(config: dict[str, Any], work: Path) -> None:
    done: set[Path] = set()
    tool = base64.b64encode(status_tool(config["status_file"]).encode())
    files: list[dict[str, Any]] = [
        {"path": CLOUD_INIT_TOOL, "permissions": 0o755, "content": tool}]
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
    stash = work / "packages"
    stash.mkdir(parents=True, exist_ok=True)
    for tool in config.get("hide", []):
        for folder in GUEST_PATH.split(":"):
            found = os.path.join(folder, tool)
            wanted = tool in config.get("packages", [])
            if wanted and os.path.isfile(found) and not (stash / tool).exists():
                shutil.copy2(found, stash / tool)  # what a package install would bring
                (stash / f"{tool}.folder").write_text(folder)
            with contextlib.suppress(OSError):
                os.unlink(found)
    for item in files:
        path = Path(item["path"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(item["content"]))
        os.chmod(path, item.get("permissions", 0o644))


def run_commands(config: dict[str, Any], env: dict[str, str]) -> None:
    for command in config.get("runcmd", []):
        subprocess.run(["/bin/sh", "-c", command], env=env, stdin=subprocess.DEVNULL,
                       check=False)


def log_line(text: str) -> str:
    """A cloud-init line on the console: kernel timestamp, process, then the message."""
    return f"[{time.monotonic() - STARTED + 8.0:12.6f}] cloud-init[{os.getpid()}]: {text}\n"


def warn(module: str, text: str) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    return log_line(f"{stamp},{int(time.time() * 1000) % 1000:03d} - {module}[WARNING]: {text}")


def install_packages(config: dict[str, Any], work: Path) -> bool:
    """cloud-init's package module: dnf through the cluster's network (or not)."""
    packages = config.get("packages", [])
    if not packages:
        return True
    time.sleep(INSTALL_S)
    if not config.get("connected", True):
        say(f"Errors during downloading metadata for repository 'fedora':\n"
            f"  - Curl error (6): Couldn't resolve host name for {MIRROR} "
            "[Could not resolve host: mirrors.fedoraproject.org]\n"
            "Error: Failed to download metadata for repo 'fedora': Cannot prepare internal "
            f"mirrorlist: Curl error (6): Couldn't resolve host name for {MIRROR} "
            "[Could not resolve host: mirrors.fedoraproject.org]\n")
        say(warn("util.py", f"Failed to install packages: {packages!r}"))
        say(warn("cc_package_update_upgrade_install.py",
                 "1 failed with exceptions, re-raising the last one"))
        say(warn("util.py", "Running module package_update_upgrade_install (<module "
                 "'cloudinit.config.cc_package_update_upgrade_install' from '/usr/lib/"
                 "python3.13/site-packages/cloudinit/config/cc_package_update_upgrade_"
                 "install.py'>) failed"))
        return False
    stash = work / "packages"
    for name in packages:
        binary = stash / name
        if binary.exists():
            folder = (stash / f"{name}.folder").read_text()
            shutil.copy2(binary, os.path.join(folder, name))
    return True


def cloud_final(config: dict[str, Any], work: Path) -> None:
    """What runs after the login prompt on a real guest; its messages interleave."""
    time.sleep(FINAL_DELAY_S)
    ok = install_packages(config, work)
    run_commands(config, shell_env(config, "root"))
    stamp = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
    uptime = time.monotonic() - STARTED + 8.0
    say(log_line(f"Cloud-init v. {CLOUD_INIT_VERSION} finished at {stamp}. Datasource "
                 f"DataSourceNoCloud [seed=/dev/vdb].  Up {uptime:.2f} seconds"))
    Path(config["status_file"]).write_text("done" if ok else "error")


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


def _signals_as_login_sets_them() -> None:
    """login(1) hands the shell default signal dispositions, whatever the lab's own
    parent ignored (a lab started from a background job ignores SIGINT and SIGQUIT):
    ^C on the console must stop the guest's foreground command."""
    for sig in (signal.SIGINT, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)


def run_shell(config: dict[str, Any], user: str) -> None:
    env = shell_env(config, user)
    child = subprocess.Popen(["/bin/sh", "-i"], env=env, cwd=config["home"],
                             preexec_fn=_signals_as_login_sets_them)
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
    Path(config["status_file"]).write_text("running")
    say(f"[  OK  ] Started lab guest {config['name']}.\n")
    try:
        apply_files(config, work)
    except (OSError, subprocess.CalledProcessError) as exc:
        say(f"cloud-init: write_files failed: {exc}\n")
    threading.Thread(target=cloud_final, args=(config, work), daemon=True).start()
    login_loop(config)


if __name__ == "__main__":
    main()
