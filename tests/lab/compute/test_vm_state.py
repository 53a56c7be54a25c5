"""Persistent VM state: a VM with a persistent vTPM and EFI gets KubeVirt's backend-storage
claim `persistent-state-for-<vm>` (ReadWriteMany, 10Mi) on the class of its first disk's
claim; an EFI variable the guest writes survives a stop and start because the lab keeps
the variable store in that volume's bytes."""

from __future__ import annotations

from typing import Any

import pytest
from kvhelpers import (
    Console,
    blank_dv,
    cloud_init,
    create_vm,
    vm_action,
    vm_manifest,
    wait_for,
    wait_printable,
)

PROBE = "/usr/local/bin/kvs-probe"


def _stateful(name: str) -> dict[str, Any]:
    vm = vm_manifest(name, user_data=cloud_init("pw"), data_volumes=[
        blank_dv(f"{name}-data", "lab-ceph-rbd", size="64Mi", access="ReadWriteMany")])
    domain = vm["spec"]["template"]["spec"]["domain"]
    domain["devices"]["tpm"] = {"persistent": True}
    domain["firmware"] = {"bootloader": {"efi": {"persistent": True, "secureBoot": False}}}
    return vm


def _efivar(console: Console, line: str) -> tuple[int, str]:
    store = "$PROBE_DEV_ROOT/sys/firmware/efi/efivars"
    return console.run(line.replace("STORE", store))


@pytest.mark.slow
def test_efi_variable_survives_a_restart_on_the_state_claim(api_client: Any, core: Any,
                                                            kv: Any, ns: str) -> None:
    create_vm(kv, ns, _stateful("st"))
    wait_printable(kv, ns, "st", "Running", 60)
    pvc = wait_for(lambda: {p.metadata.name: p for p in
                            core.list_namespaced_persistent_volume_claim(ns).items},
                   lambda claims: "persistent-state-for-st" in claims, "the state claim")[
        "persistent-state-for-st"]
    assert pvc.spec.storage_class_name == "lab-ceph-rbd"
    assert pvc.spec.access_modes == ["ReadWriteMany"] and pvc.spec.volume_mode == "Block"
    assert pvc.metadata.owner_references[0].kind == "VirtualMachine"
    console = Console(api_client, ns, "st")
    console.login("fedora", "pw")
    wait_for(lambda: _efivar(console, "test -d STORE")[0], lambda code: code == 0,
             "the EFI variable store", 20)
    assert _efivar(console, "printf '\\007\\000\\000\\000kept-42' > STORE/KvsState-1")[0] == 0
    console.close()
    assert vm_action(api_client, ns, "st", "stop") == 202
    wait_printable(kv, ns, "st", "Stopped", 60)
    assert vm_action(api_client, ns, "st", "start") == 202
    wait_printable(kv, ns, "st", "Running", 60)
    console = Console(api_client, ns, "st")
    console.login("fedora", "pw")
    _, value = wait_for(lambda: _efivar(console, "tail -c +5 STORE/KvsState-1"),
                           lambda result: result[0] == 0, "the variable after a restart", 20)
    console.close()
    assert value.strip().splitlines()[-1] == "kept-42"
