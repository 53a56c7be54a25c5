"""KubeVirt's volume migration: a VM with `updateVolumesStrategy: Migration` whose data
volume is switched to a DataVolume of another class keeps running, its VMI points at the
new claim (status.migratedVolumes names both), the guest's bytes moved with it; a
shareable disk cannot move (RestartRequired with KubeVirt's message)."""

from __future__ import annotations

from typing import Any

import pytest
from kvhelpers import (
    Console,
    blank_dv,
    cloud_init,
    create_vm,
    get_vm,
    get_vmi,
    vm_manifest,
    wait_for,
    wait_printable,
)

KV = ("kubevirt.io", "v1")
DEV = "$PROBE_DEV_ROOT/dev/disk/by-id/virtio-mv-data"


def _switch(kv: Any, ns: str, vm: str, volume: str, claim: str, *,
            storage_class: str = "lab-slow", volume_mode: str | None = None) -> None:
    """What a user does: the volume and its DataVolume template name a new DataVolume of
    another class, with the Migration strategy."""
    obj = get_vm(kv, ns, vm)
    obj["spec"]["updateVolumesStrategy"] = "Migration"
    for template in obj["spec"]["dataVolumeTemplates"]:
        if template["metadata"]["name"] == volume:
            template["metadata"]["name"] = claim
            template["spec"]["storage"]["storageClassName"] = storage_class
            if volume_mode:
                template["spec"]["storage"]["volumeMode"] = volume_mode
            template["spec"]["storage"]["accessModes"] = ["ReadWriteOnce"]
    for item in obj["spec"]["template"]["spec"]["volumes"]:
        if item["name"] == volume:
            item["dataVolume"] = {"name": claim}
    kv.replace_namespaced_custom_object(*KV, ns, "virtualmachines", vm, obj)


@pytest.mark.slow
def test_volume_moves_to_another_class_while_running(api_client: Any, kv: Any,
                                                     ns: str) -> None:
    create_vm(kv, ns, vm_manifest("mv", user_data=cloud_init("pw"), data_volumes=[
        blank_dv("mv-data", "lab-nfs", size="64Mi", volume_mode="Filesystem")]))
    wait_printable(kv, ns, "mv", "Running", 60)
    console = Console(api_client, ns, "mv")
    console.login("fedora", "pw")
    assert console.run(f"printf moved-bytes | dd of={DEV} conv=notrunc 2>/dev/null")[0] == 0
    before = console.run(f"readlink {DEV}")[1].strip()
    _switch(kv, ns, "mv", "mv-data", "mv-new")
    vmi = wait_for(lambda: get_vmi(kv, ns, "mv"), lambda v: any(
        (x.get("dataVolume") or {}).get("name") == "mv-new" for x in v["spec"]["volumes"])
        and not any(c["type"] == "VolumesChange" for c in v["status"].get("conditions", [])),
        "the VMI to use the new claim", 60)
    moved = vmi["status"]["migratedVolumes"][0]
    assert moved["sourcePVCInfo"]["claimName"] == "mv-data"
    assert moved["destinationPVCInfo"]["claimName"] == "mv-new"
    state = get_vm(kv, ns, "mv")["status"]["volumeUpdateState"]["volumeMigrationState"]
    assert state["migratedVolumes"][0]["destinationPVCInfo"]["claimName"] == "mv-new"
    status, head = console.run(f"head -c 11 {DEV}")
    assert (status, head.strip().splitlines()[-1]) == (0, "moved-bytes")
    assert console.run(f"readlink {DEV}")[1].strip() != before  # now the new volume
    console.close()


def test_shareable_disk_cannot_move(kv: Any, ns: str) -> None:
    vm = vm_manifest("sh", user_data=cloud_init("pw"), data_volumes=[
        blank_dv("sh-data", "lab-nfs", size="64Mi", volume_mode="Filesystem",
                 access="ReadWriteMany")])
    for disk in vm["spec"]["template"]["spec"]["domain"]["devices"]["disks"]:
        if disk["name"] == "sh-data":
            disk["shareable"] = True
    create_vm(kv, ns, vm)
    wait_printable(kv, ns, "sh", "Running", 60)
    _switch(kv, ns, "sh", "sh-data", "sh-new")
    cond = wait_for(lambda: get_vm(kv, ns, "sh").get("status", {}).get("conditions", []),
                    lambda cs: any(c["type"] == "RestartRequired" for c in cs),
                    "RestartRequired", 30)
    message = next(c["message"] for c in cond if c["type"] == "RestartRequired")
    assert message == "invalid volumes to update with migration: shareable: [sh-data]"
