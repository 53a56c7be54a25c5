"""The QEMU guest image has every command the guest probe runs.

A cloud image has coreutils; Debian's busybox-static lacks some of it (nohup). A probe
verb whose command is missing fails quietly in the guest (the loop writer started under
a missing `nohup` simply never ran, and the migration check read "writes stopped at
block 0"), so the image's file list is checked against the probe's commands here.
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from suite.lab.compute.qemu import GuestImageMissing, find_image

PROBE = Path(__file__).resolve().parents[3] / "suite" / "guest" / "probe.sh"
SHELL_WORDS = {"if", "then", "else", "elif", "fi", "for", "do", "done", "while", "case",
               "esac", "in", "return", "exit", "local", "set", "shift", "trap", "read",
               "printf", "echo", "test", "cd", "eval", "exec", "export", "command", "kill",
               "wait", "true", "false", "break", "continue", "unset", "sh", "umask", "pwd"}

# efivarfs files are immutable until `chattr -i`; the QEMU guest boots with -kernel and
# has no EFI variables, so the probe's efivar verbs cannot run there anyway
NOT_NEEDED = {"chattr"}

try:
    IMAGE = find_image()
    MISSING = ""
except GuestImageMissing as exc:
    MISSING = str(exc)


def _probe_commands() -> set[str]:
    """Words in command position in probe.sh (line start, after a pipe, `;`, `&&`, `||`,
    `$(` or `then`/`do`), less shell keywords and builtins and the probe's functions."""
    text = PROBE.read_text()
    functions = set(re.findall(r"^(\w+)\(\) *\{", text, re.M))
    code = re.sub(r"\$\(\([^)]*\)\)", "0", re.sub(r"(^|\s)#.*", "", text))
    code = re.sub(r"'[^'\n]*'|\"[^\"\n]*\"", "''", code)
    found = set(re.findall(
        r"(?:^|[|;&(]|\$\(|\bthen|\bdo|\belse)[ \t]*([a-z][a-z0-9_]*)(?=[ \t;|&]|$)",
        code, re.M))
    # a word counts when it names a command on this host (the probe's helper words and
    # verbs do not); the image must then have it too
    return {word for word in found - SHELL_WORDS - functions if shutil.which(word)}


def _image_commands() -> set[str]:
    listing = subprocess.run(["cpio", "-it", "--quiet"], input=gzip.decompress(
        IMAGE.initrd.read_bytes()), capture_output=True, check=True).stdout.decode()
    files = {Path(line).name for line in listing.splitlines()
             if re.match(r"^(usr/)?s?bin/", line)}
    applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    return files | set(applets)


@pytest.mark.slow
@pytest.mark.skipif(bool(MISSING), reason=MISSING)
def test_the_image_has_every_command_the_probe_runs() -> None:
    wanted = _probe_commands()
    assert {"dd", "nohup", "sha256sum"} <= wanted  # the parse finds the probe's commands
    missing = sorted(wanted - NOT_NEEDED - _image_commands())
    assert not missing, (f"the guest image lacks {missing}: "
                         "add them to scripts/build_guest_initramfs.sh")
