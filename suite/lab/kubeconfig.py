"""The kubeconfig that points kubectl and the `kubernetes` client at a lab.

It carries the lab's CA (inline, so the file works from anywhere) and the bearer token;
nothing else is needed to talk to the lab, exactly as with a cluster's admin kubeconfig.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import yaml

CONTEXT = "lab"


def render(server_url: str, ca_pem: bytes, token: str) -> str:
    """The kubeconfig YAML text for one lab."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {
            "server": server_url,
            "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "users": [{"name": "lab-admin", "user": {"token": token}}],
        "contexts": [{"name": CONTEXT, "context": {
            "cluster": CONTEXT, "user": "lab-admin", "namespace": "default"}}],
        "current-context": CONTEXT,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)


def write(path: Path, server_url: str, ca_pem: bytes, token: str) -> Path:
    """Write the kubeconfig with mode 0600 (it holds a credential); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(render(server_url, ca_pem, token))
    os.replace(tmp, path)
    return path
