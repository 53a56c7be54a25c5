"""Stopping the lab leaves no guest or pod process behind (every session member dies)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes
from kvhelpers import (
    cloud_init,
    create_vm,
    custom,
    get_vmi,
    vm_manifest,
    wait_pod_running,
    wait_printable,
)

from suite.lab.compute.procs import session_members

DRIVERS = """
drivers:
  - name: lab-tiny
    provisioner: tiny.csi.lab.io
    defaultVirt: true
    modes: {Filesystem: [ReadWriteOnce]}
"""


def test_lab_stop_ends_guests_and_pods(lab_factory: Any) -> None:
    lab = lab_factory(DRIVERS)
    client = kubernetes.config.new_client_from_config(config_file=str(lab.kubeconfig_path))
    kv, core = custom(client), kubernetes.client.CoreV1Api(client)
    create_vm(kv, "default", vm_manifest("lonely", user_data=cloud_init("pw")))
    core.create_namespaced_pod("default", {"metadata": {"name": "sleeper"}, "spec": {
        "containers": [{"name": "c", "image": "x", "command": ["sh", "-c", "sleep 600 & wait"]}]}})
    wait_printable(kv, "default", "lonely", "Running")
    wait_pod_running(core, "default", "sleeper")
    client.close()
    guest = lab.ctx.extras["compute"].guests[get_vmi(kv, "default", "lonely")["metadata"]["uid"]]
    pod_pid = lab.ctx.extras["pods"].pid_of("default", "sleeper", None)
    members = session_members(guest.process.pid) + session_members(pod_pid)
    assert len(members) >= 3  # getty, the pod's shell and its sleep at least
    lab.stop()
    assert [pid for pid in members if _alive(pid)] == []


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for a parent that is not the lab (PID 1 reaps)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"
