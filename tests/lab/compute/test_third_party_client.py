"""A third-party client written against real KubeVirt drives the lab unchanged:
openshift-python-wrapper starts, restarts, migrates, snapshots and stops a VM with its
own waits (VM ready flag, VMI phase, launcher pod lookup, migration and snapshot
status)."""

from __future__ import annotations

from typing import Any

import pytest
from kvhelpers import blank_dv, cloud_init, vm_manifest
from ocp_resources.resource import get_client
from ocp_resources.virtual_machine import VirtualMachine
from ocp_resources.virtual_machine_instance_migration import VirtualMachineInstanceMigration
from ocp_resources.virtual_machine_snapshot import VirtualMachineSnapshot


# the wrapper's own restart(wait=True) uses its deprecated virt_launcher_pod property
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.slow
def test_openshift_python_wrapper_lifecycle(lab: Any, ns: str) -> None:
    client = get_client(config_file=str(lab.kubeconfig_path))
    body = vm_manifest("wrapped", user_data=cloud_init("pw"), run_strategy="Halted",
                       data_volumes=[blank_dv("wrapped-data", "lab-ceph-rbd",
                                              access="ReadWriteMany")])
    vm = VirtualMachine(client=client, name="wrapped", namespace=ns, body=body)
    vm.deploy(wait=True)
    vm.start(wait=True, timeout=60)
    vm.vmi.wait_until_running(timeout=60)
    first_pod = vm.vmi.get_virt_launcher_pod()
    assert first_pod.instance.spec.nodeName == vm.vmi.instance.status.nodeName
    vm.restart(wait=True, timeout=60)
    with VirtualMachineInstanceMigration(client=client, name="wrapped-mig", namespace=ns,
                                         vmi_name="wrapped") as migration:
        migration.wait_for_status(status=migration.Status.SUCCEEDED, timeout=60)
    target = vm.vmi.instance.status.migrationState.targetPod
    assert vm.vmi.get_virt_launcher_pod().name == target
    with VirtualMachineSnapshot(client=client, name="wrapped-snap", namespace=ns,
                                vm_name="wrapped") as snapshot:
        snapshot.wait_snapshot_done(timeout=60)
    vm.stop(wait=True, timeout=60)
    assert vm.instance.status.printableStatus == "Stopped"
    vm.clean_up()
