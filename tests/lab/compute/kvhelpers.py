"""Small clients the compute tests share: a serial-console websocket and API waits.

The console client is deliberately independent of the suite's own (suite/guest/): these
tests check the lab's surface the way any third-party client would see it.
"""

from __future__ import annotations

import re
import ssl
import time
import uuid
from collections.abc import Callable
from typing import Any

import kubernetes
import websocket

KV = ("kubevirt.io", "v1")


class Console:
    """A serial console over KubeVirt's `console` subresource (plain.kubevirt.io)."""

    def __init__(self, api_client: kubernetes.client.ApiClient, namespace: str,
                 name: str) -> None:
        config = api_client.configuration
        url = (config.host.replace("https://", "wss://") + "/apis/subresources.kubevirt.io/v1"
               f"/namespaces/{namespace}/virtualmachineinstances/{name}/console")
        token = config.api_key.get("authorization") or config.api_key.get("BearerToken", "")
        if not token.startswith("Bearer "):
            token = "Bearer " + token
        self.ws = websocket.create_connection(
            url, header=[f"Authorization: {token}"], subprotocols=["plain.kubevirt.io"],
            sslopt={"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": config.ssl_ca_cert},
            timeout=1)
        self.buffer = b""

    def send(self, text: str) -> None:
        self.ws.send_binary(text.encode())

    def expect(self, pattern: str, timeout_s: float = 20.0) -> str:
        """Read until `pattern` (a regex) matches; returns and drops what was read."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = re.search(pattern.encode(), self.buffer)
            if found:
                text = self.buffer[:found.end()].decode(errors="replace")
                self.buffer = self.buffer[found.end():]
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"console never showed {pattern!r}; got {self.buffer!r}")
            try:
                self.buffer += self.ws.recv() or b""
            except websocket.WebSocketTimeoutException:
                continue

    def login(self, user: str, password: str) -> None:
        """Log in; a shell left logged in by an earlier client is logged out first. Then
        wait for cloud-init, as on a real VM: its final lines land on the console after
        the login prompt and would otherwise mix into a command's output."""
        self.send("\r")
        if not self.expect(r"(login: |[$#] )$", 30).endswith("login: "):
            self.send("exit\r")
            self.expect(r"login: $")
        self.send(user + "\r")
        self.expect(r"Password: ")
        self.send(password + "\r")
        self.expect(r"[$#] $")
        self.send("cloud-init status --wait >/dev/null 2>&1; echo cloud-init-$?\r")
        self.expect(r"cloud-init-\d+", 60)
        self.expect(r"[$#] $")

    def run(self, command: str, timeout_s: float = 30.0) -> tuple[int, str]:
        """Run one shell command; returns (exit status, output)."""
        mark = uuid.uuid4().hex[:8]
        self.send(f"echo {mark}-B; {command}; echo {mark}-E-$?\r")
        text = self.expect(rf"{mark}-E-(\d+)", timeout_s)
        body = text.rsplit(f"{mark}-B\r\n", 1)[-1]
        status = int(re.search(rf"{mark}-E-(\d+)", text).group(1))  # type: ignore[union-attr]
        return status, body.rsplit(f"{mark}-E-", 1)[0].strip()

    def close(self) -> None:
        self.ws.close()


def custom(api_client: kubernetes.client.ApiClient) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(api_client)


def wait_for(read: Callable[[], Any], predicate: Callable[[Any], bool], what: str,
             timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = read()
        if predicate(last):
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; last seen: {last}")


def get_vm(api: kubernetes.client.CustomObjectsApi, ns: str, name: str) -> dict[str, Any]:
    return api.get_namespaced_custom_object(*KV, ns, "virtualmachines", name)


def get_vmi(api: kubernetes.client.CustomObjectsApi, ns: str, name: str) -> dict[str, Any]:
    try:
        return api.get_namespaced_custom_object(*KV, ns, "virtualmachineinstances", name)
    except kubernetes.client.ApiException as exc:
        if exc.status == 404:
            return {}
        raise


def cloud_init(password: str, extra: str = "") -> str:
    return f"#cloud-config\npassword: {password}\nchpasswd: {{expire: false}}\n{extra}"


def vm_manifest(name: str, *, user_data: str, data_volumes: list[dict[str, Any]] = (),
                run_strategy: str = "Always", image: str = "quay.io/containerdisks/fedora:41",
                ) -> dict[str, Any]:
    """A VM with a containerDisk root, cloud-init, and one disk per DataVolume template
    (serials = template names)."""
    disks = [{"name": "rootdisk", "disk": {"bus": "virtio"}},
             {"name": "cloudinitdisk", "disk": {"bus": "virtio"}}]
    volumes = [{"name": "rootdisk", "containerDisk": {"image": image}},
               {"name": "cloudinitdisk", "cloudInitNoCloud": {"userData": user_data}}]
    for template in data_volumes:
        dv = template["metadata"]["name"]
        disks.append({"name": dv, "serial": dv, "disk": {"bus": "virtio"}})
        volumes.append({"name": dv, "dataVolume": {"name": dv}})
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
            "metadata": {"name": name},
            "spec": {"runStrategy": run_strategy, "dataVolumeTemplates": list(data_volumes),
                     "template": {"metadata": {"labels": {"kubevirt.io/vm": name}},
                                  "spec": {"domain": {"devices": {"disks": disks},
                                                      "resources": {"requests": {
                                                          "memory": "1Gi"}}},
                                           "terminationGracePeriodSeconds": 0,
                                           "volumes": volumes}}}}


def blank_dv(name: str, storage_class: str, size: str = "64Mi", *,
             volume_mode: str = "Block", access: str = "ReadWriteOnce") -> dict[str, Any]:
    return {"metadata": {"name": name},
            "spec": {"source": {"blank": {}},
                     "storage": {"storageClassName": storage_class, "volumeMode": volume_mode,
                                 "accessModes": [access],
                                 "resources": {"requests": {"storage": size}}}}}


def create_vm(kv: Any, ns: str, manifest: dict[str, Any]) -> dict[str, Any]:
    return kv.create_namespaced_custom_object(*KV, ns, "virtualmachines", manifest)


def wait_printable(kv: Any, ns: str, name: str, wanted: str,
                   timeout_s: float = 40.0) -> dict[str, Any]:
    return wait_for(lambda: get_vm(kv, ns, name),
                    lambda vm: vm.get("status", {}).get("printableStatus") == wanted,
                    f"VM {name} {wanted}", timeout_s)


def vm_action(api_client: kubernetes.client.ApiClient, ns: str, name: str,
              action: str, body: dict[str, Any] | None = None) -> int:
    """PUT a VM lifecycle subresource; returns the HTTP status."""
    path = (f"/apis/subresources.kubevirt.io/v1/namespaces/{ns}/virtualmachines/"
            f"{name}/{action}")
    _, status, _ = api_client.call_api(path, "PUT", body=body or {},
                                       auth_settings=["BearerToken"],
                                       _return_http_data_only=False)
    return int(status)


def migration_manifest(name: str, vmi: str) -> dict[str, Any]:
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
            "metadata": {"name": name}, "spec": {"vmiName": vmi}}


def wait_migration(kv: Any, ns: str, name: str, timeout_s: float = 30.0) -> dict[str, Any]:
    """Wait for a VirtualMachineInstanceMigration to end (Succeeded or Failed)."""
    return wait_for(lambda: kv.get_namespaced_custom_object(
        *KV, ns, "virtualmachineinstancemigrations", name),
        lambda m: m.get("status", {}).get("phase") in ("Succeeded", "Failed"),
        f"migration {name} to finish", timeout_s)


def wait_pod_running(core: kubernetes.client.CoreV1Api, ns: str, name: str) -> Any:
    return wait_for(lambda: core.read_namespaced_pod(name, ns),
                    lambda pod: pod.status.phase == "Running", f"pod {name}")


def volume_image(state_dir: Any, core: kubernetes.client.CoreV1Api, ns: str,
                 claim: str) -> Any:
    """The file the storage holds for a claim's volume (state_dir/volumes/<handle>)."""
    pvc = core.read_namespaced_persistent_volume_claim(claim, ns)
    pv = core.read_persistent_volume(pvc.spec.volume_name)
    return state_dir / "volumes" / pv.spec.csi.volume_handle / "disk.raw"
