"""Small helpers the API tests share: run kubectl against a lab, unique names."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def kubectl_command(kubeconfig: Path, *args: str) -> list[str]:
    """kubectl with the lab's kubeconfig; its discovery cache stays inside the lab's
    state folder (beside the kubeconfig) instead of piling up in ~/.kube/cache."""
    cache = Path(kubeconfig).parent / "kubectl-cache"
    return ["kubectl", "--kubeconfig", str(kubeconfig), "--cache-dir", str(cache), *args]


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None,
            check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run kubectl with the lab's kubeconfig; raise with its stderr when check fails."""
    result = subprocess.run(kubectl_command(kubeconfig, *args),
                            input=stdin, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
    return result
