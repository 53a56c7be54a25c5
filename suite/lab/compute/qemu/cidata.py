"""The NoCloud `cidata` disk virt-launcher builds for a VMI, and the guest's part of it.

KubeVirt writes `user-data` and `meta-data` into an ISO9660 image labelled `cidata`
(pkg/cloud-init/cloud-init.go) and attaches it as a disk. The lab's guest image has no
cloud-init (it needs Python), so the ISO also carries `lab-user-data.sh`: the same
document, parsed by the lab's cloud-init parser and rendered to busybox shell, which the
image's /etc/rc runs as cloud-init's stages would: users, passwords and write_files
before the getty starts; then in the background packages (the image's fio is there
only where the image or a connected install puts it), runcmd, then the final message
and `cloud-init status`.
"""

from __future__ import annotations

import base64
import shlex
import subprocess
from pathlib import Path

from ..cloudinit import GuestConfig
from ..getty import status_tool

STATUS_FILE = "/run/cloud-init/status"
STASH = "/var/lib/lab-packages"
MIRROR = "mirrors.fedoraproject.org"


def render_script(config: GuestConfig, hide_tools: tuple[str, ...], connected: bool) -> str:
    """busybox shell applying `config` inside the guest."""
    q = shlex.quote
    lines = ["#!/bin/sh", "export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             f"mkdir -p {STASH} /usr/local/bin"]
    for tool in hide_tools:  # the image lacks it; a connected install brings it back
        lines.append(f"[ -e /usr/bin/{tool} ] && mv /usr/bin/{tool} {STASH}/{tool}")
    tool = base64.b64encode(status_tool(STATUS_FILE).encode()).decode()
    lines.append(f"echo {tool} | base64 -d > /usr/local/bin/cloud-init; "
                 "chmod 755 /usr/local/bin/cloud-init")
    for uid, (user, password) in enumerate(config.credentials.items(), start=1000):
        lines += _user_lines(user, password, uid)
    if config.credentials:  # cloud-init's default user gets passwordless sudo
        first = next(iter(config.credentials))
        lines += ["mkdir -p /etc/sudoers.d",
                  f"echo {q(first + ' ALL=(ALL) NOPASSWD:ALL')} "
                  "> /etc/sudoers.d/90-cloud-init-users"]
    for item in config.files:
        data = base64.b64encode(item.content).decode()
        lines.append(f"mkdir -p {q(str(Path(item.path).parent))}")
        lines.append(f"echo {data} | base64 -d > {q(item.path)}")
        lines.append(f"chmod {item.permissions:o} {q(item.path)}")
    # cloud-init's final stage (packages, runcmd) runs after the getty is up
    lines += ["(", "ok=done"]
    if config.packages:
        lines.append("sleep 1")
        if connected:
            for name in config.packages:
                lines.append(f"[ -e {STASH}/{q(name)} ] && cp {STASH}/{q(name)} /usr/bin/")
        else:
            lines += [f"echo \"Curl error (6): Couldn't resolve host name for {MIRROR}\""
                      " > /dev/console",
                      f"echo 'cloud-init: util.py[WARNING]: Failed to install packages: "
                      f"{config.packages!r}' > /dev/console", "ok=error"]
    for command in config.runcmd:
        lines.append(f"sh -c {q(command)} </dev/null")
    lines += ["up=$(cut -d' ' -f1 /proc/uptime)",
              "echo \"cloud-init: Cloud-init v. 24.2 finished at $(date -R). Datasource "
              "DataSourceNoCloud [seed=/dev/vda].  Up $up seconds\" > /dev/console",
              f"echo $ok > {STATUS_FILE}", ") >> /var/log/cloud-init-output.log 2>&1 &"]
    return "\n".join(lines) + "\n"


def _user_lines(user: str, password: str, uid: int) -> list[str]:
    """cloud-init's users and chpasswd modules with busybox (it has no adduser/chpasswd
    applets here): a passwd entry, a home, and a SHA-512 hash from `mkpasswd`."""
    q = shlex.quote
    lines = []
    if user != "root":
        entry = f"{user}:x:{uid}:{uid}:{user}:/home/{user}:/bin/dash"
        lines += [f"grep -q ^{q(user)}: /etc/passwd || {{ "
                  f"echo {q(entry)} >> /etc/passwd; "
                  f"echo {q(f'{user}:x:{uid}:')} >> /etc/group; "
                  f"echo {q(user + ':!:19000:0:99999:7:::')} >> /etc/shadow; "
                  f"mkdir -p /home/{q(user)}; chown {uid}:{uid} /home/{q(user)}; }}"]
    lines.append(f"hash=$(mkpasswd -m sha512 {q(password)}); "
                 f"sed -i \"s|^{user}:[^:]*:|{user}:$hash:|\" /etc/shadow")
    return lines


def build_iso(folder: Path, user_data: str | None, hostname: str, instance_id: str,
              script: str) -> Path:
    """Write the cidata ISO (genisoimage, as KubeVirt does) and return its path."""
    content = folder / "cidata"
    content.mkdir(parents=True, exist_ok=True)
    (content / "user-data").write_text(user_data or "")
    (content / "meta-data").write_text(
        f"instance-id: {instance_id}\nlocal-hostname: {hostname}\n")
    (content / "lab-user-data.sh").write_text(script)
    iso = folder / "cidata.iso"
    subprocess.run(["genisoimage", "-quiet", "-output", str(iso), "-volid", "cidata",
                    "-joliet", "-rock", str(content)], check=True)
    return iso
