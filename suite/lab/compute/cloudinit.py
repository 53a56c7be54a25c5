"""Cloud-init NoCloud user data, reduced to what the lab's guest applies.

A real guest runs cloud-init at boot; the lab's guest gets the same `#cloud-config`
document, parsed here once into plain data (login credentials, files to write, commands
to run) that the guest's getty applies inside its own mount namespace.
"""

from __future__ import annotations

import base64
import gzip
from dataclasses import dataclass, field
from typing import Any

import yaml

DEFAULT_USER = "fedora"


class CloudInitError(ValueError):
    """User data the lab cannot apply; the message names the field."""


@dataclass
class GuestFile:
    path: str
    content: bytes
    permissions: int = 0o644


@dataclass
class GuestConfig:
    """What the guest needs from cloud-init: who may log in, which files, which commands."""

    credentials: dict[str, str] = field(default_factory=dict)
    files: list[GuestFile] = field(default_factory=list)
    runcmd: list[str] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "credentials": self.credentials,
            "files": [{"path": f.path, "content": base64.b64encode(f.content).decode(),
                       "permissions": f.permissions} for f in self.files],
            "runcmd": self.runcmd,
            "packages": self.packages,
        }


def find_user_data(volumes: list[dict[str, Any]],
                   read_secret: Any = None) -> str | None:
    """The user data of the first cloudInitNoCloud (or ConfigDrive) volume, if any.

    `read_secret(name) -> dict[str, str]` resolves `secretRef` (KubeVirt's Go field
    UserDataSecretRef; kubevirt staging/src/kubevirt.io/api/core/v1/schema.go), reading
    the key `userdata`, else `userData`, as pkg/cloud-init/cloud-init.go does."""
    for volume in volumes:
        source = volume.get("cloudInitNoCloud") or volume.get("cloudInitConfigDrive")
        if source is None:
            continue
        if "userData" in source:
            return str(source["userData"])
        if "userDataBase64" in source:
            return base64.b64decode(source["userDataBase64"]).decode()
        ref = source.get("secretRef")
        if ref and read_secret is not None:
            data = read_secret(ref["name"])
            raw = data.get("userdata") or data.get("userData") or ""
            return base64.b64decode(raw).decode()
    return None


def parse_user_data(text: str | None) -> GuestConfig:
    """Parse a `#cloud-config` document (anything else gives an empty config)."""
    config = GuestConfig()
    if not text or not text.lstrip().startswith("#cloud-config"):
        return config
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise CloudInitError(f"user data is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise CloudInitError("user data must be a YAML mapping")
    _credentials(doc, config)
    config.files = [_file(i, item) for i, item in enumerate(doc.get("write_files") or [])]
    config.runcmd = [_command(item) for item in doc.get("runcmd") or []]
    config.packages = [_package(i, item) for i, item in enumerate(doc.get("packages") or [])]
    return config


def _package(index: int, item: Any) -> str:
    """A `packages:` entry: a name, or [name, version] as cloud-init's schema allows."""
    if isinstance(item, list) and item:
        item = item[0]
    if not isinstance(item, str) or not item.strip():
        raise CloudInitError(f"packages[{index}] must be a package name or [name, version]")
    return item.strip()


def _credentials(doc: dict[str, Any], config: GuestConfig) -> None:
    default_user = str(doc.get("user") or DEFAULT_USER)
    if isinstance(doc.get("user"), dict):
        default_user = str(doc["user"].get("name") or DEFAULT_USER)
    if doc.get("password") is not None:
        config.credentials[default_user] = str(doc["password"])
    for user in doc.get("users") or []:
        if isinstance(user, dict) and user.get("name") and user.get("plain_text_passwd"):
            config.credentials[str(user["name"])] = str(user["plain_text_passwd"])
    _chpasswd(doc.get("chpasswd"), config)


def _chpasswd(section: Any, config: GuestConfig) -> None:
    if not isinstance(section, dict):
        return
    for entry in section.get("users") or []:
        if isinstance(entry, dict) and entry.get("name") and entry.get("password"):
            config.credentials[str(entry["name"])] = str(entry["password"])
    listed = section.get("list")
    lines = listed.splitlines() if isinstance(listed, str) else list(listed or [])
    for line in lines:
        name, _, password = str(line).partition(":")
        if name and password:
            config.credentials[name.strip()] = password.strip()


def _file(index: int, item: dict[str, Any]) -> GuestFile:
    where = f"write_files[{index}]"
    path = item.get("path")
    if not path or not str(path).startswith("/"):
        raise CloudInitError(f"{where}.path must be an absolute path")
    encoding = str(item.get("encoding") or "").lower()
    content = item.get("content") or ""
    data = content.encode() if isinstance(content, str) else bytes(content)
    try:
        if encoding in ("b64", "base64"):
            data = base64.b64decode(data)
        elif encoding in ("gz+b64", "gzip+b64", "gz+base64", "gzip+base64"):
            data = gzip.decompress(base64.b64decode(data))
        elif encoding in ("gz", "gzip"):
            data = gzip.decompress(data)
    except Exception as exc:
        raise CloudInitError(f"{where}.content cannot be decoded as {encoding}: {exc}") from exc
    permissions = int(str(item.get("permissions") or "0644"), 8)
    return GuestFile(str(path), data, permissions)


def _command(item: Any) -> str:
    if isinstance(item, list):
        return " ".join(_quote(str(part)) for part in item)
    return str(item)


def _quote(word: str) -> str:
    return "'" + word.replace("'", "'\"'\"'") + "'"
