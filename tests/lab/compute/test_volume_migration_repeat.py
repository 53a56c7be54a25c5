"""KubeVirt's volume migration loses no write: a guest keeps writing numbered blocks
(the suite's own probe, `loop-write`) while its disk moves from a Block class to
a Filesystem class, five times in a row onto the WaitForFirstConsumer class and once
onto an Immediate one; every block must verify on the new disk each time (real KubeVirt
block-migrates the disk, so no write is lost)."""

from __future__ import annotations

import base64
import re
import uuid
from typing import Any

import kubernetes
import pytest
from kvhelpers import Console, blank_dv, create_vm, get_vmi, vm_manifest, wait_for, wait_printable
from test_volume_migration import _switch

from suite.vm.manifests import GuestSpec
from suite.vm.userdata import cloud_config

KV = ("kubevirt.io", "v1")
BLOCKS = 2048
OFFSET = 1 << 20


def _userdata_secret(core: Any, ns: str) -> str:
    name = f"probe-{uuid.uuid4().hex[:6]}"
    text = cloud_config(GuestSpec(image="", user="fedora", password="pw"))
    core.create_namespaced_secret(ns, {"metadata": {"name": name},
                                       "data": {"userdata": base64.b64encode(
                                           text.encode()).decode()}})
    return name


def _fields(console: Console, line: str, timeout_s: float = 60.0) -> dict[str, str]:
    status, out = console.run(f"kvs-probe {line}", timeout_s)
    assert status == 0, f"kvs-probe {line}: {out}"
    return dict(re.findall(r"(\w+)=(\S+)", out.splitlines()[-1]))


@pytest.mark.parametrize("target,round_", [("lab-local", i) for i in range(5)]
                         + [("lab-nfs", 0)])
@pytest.mark.slow
def test_every_block_moves_with_the_disk(api_client: kubernetes.client.ApiClient,
                                         core: Any, kv: Any, ns: str, target: str,
                                         round_: int) -> None:
    name = f"mr{round_}-{target[4:]}"
    vm = vm_manifest(name, user_data="", data_volumes=[
        blank_dv(f"{name}-d", "lab-slow", size="64Mi", volume_mode="Block")])
    volumes = vm["spec"]["template"]["spec"]["volumes"]
    volumes[1] = {"name": "cloudinitdisk",
                  "cloudInitNoCloud": {"secretRef": {"name": _userdata_secret(core, ns)}}}
    create_vm(kv, ns, vm)
    wait_printable(kv, ns, name, "Running", 90)
    console = Console(api_client, ns, name)
    console.login("fedora", "pw")
    seed = f"s{round_}"
    _fields(console, f"loop-write {name}-d {OFFSET} {BLOCKS} {seed}")
    wait_for(lambda: int(_fields(console, f"loop-status {name}-d")["written"]),
             lambda n: n >= 32, "the first blocks", 60)
    _switch(kv, ns, name, f"{name}-d", f"{name}-n", storage_class=target,
            volume_mode="Filesystem")
    wait_for(lambda: get_vmi(kv, ns, name), lambda v: any(
        (x.get("dataVolume") or {}).get("name") == f"{name}-n" for x in v["spec"]["volumes"])
        and not any(c["type"] == "VolumesChange" for c in v["status"].get("conditions", [])),
        "the VMI to use the new claim", 90)
    written = int(_fields(console, f"loop-stop {name}-d")["written"])
    assert written >= 32
    status, out = console.run(f"kvs-probe loop-verify {name}-d {OFFSET} {written} {seed}", 60)
    assert status == 0, f"after the move onto {target}: {out}"
    console.close()
    kv.delete_namespaced_custom_object(*KV, ns, "virtualmachines", name)
