"""What discovery reads on OpenShift Virtualization: schedulable nodes with KubeVirt's
labels, the KubeVirt CR with its feature gates, the HyperConverged CR, and the
subresources.kubevirt.io group."""

from __future__ import annotations

from typing import Any

import kubernetes


def test_nodes_are_ready_schedulable_kubevirt_nodes(core: Any) -> None:
    nodes = core.list_node(label_selector="kubevirt.io/schedulable=true").items
    assert len(nodes) == 3
    for node in nodes:
        ready = next(c for c in node.status.conditions if c.type == "Ready")
        assert ready.status == "True" and not node.spec.unschedulable
        assert node.metadata.labels["kubernetes.io/hostname"] == node.metadata.name
        assert "node-role.kubernetes.io/worker" in node.metadata.labels
        assert node.status.allocatable["cpu"] and node.status.node_info.kubelet_version


def test_kubevirt_and_hyperconverged_crs(kv: Any) -> None:
    kubevirts = kv.list_namespaced_custom_object("kubevirt.io", "v1", "openshift-cnv",
                                                 "kubevirts")["items"]
    assert [k["metadata"]["name"] for k in kubevirts] == ["kubevirt-kubevirt-hyperconverged"]
    kubevirt = kubevirts[0]
    assert kubevirt["status"]["phase"] == "Deployed"
    assert kubevirt["status"]["observedKubeVirtVersion"].startswith("v1.")
    gates = kubevirt["spec"]["configuration"]["developerConfiguration"]["featureGates"]
    assert {"Snapshot", "ExpandDisks", "HotplugVolumes"} <= set(gates)
    hco = kv.get_namespaced_custom_object("hco.kubevirt.io", "v1beta1", "openshift-cnv",
                                          "hyperconvergeds", "kubevirt-hyperconverged")
    available = next(c for c in hco["status"]["conditions"] if c["type"] == "Available")
    assert available["status"] == "True" and hco["status"]["versions"]


def test_subresources_group_is_discoverable(api_client: Any) -> None:
    resources = kubernetes.client.CustomObjectsApi(api_client).api_client.call_api(
        "/apis/subresources.kubevirt.io/v1", "GET", auth_settings=["BearerToken"],
        response_type="object", _return_http_data_only=True)
    names = {r["name"] for r in resources["resources"]}
    assert {"virtualmachineinstances/console", "virtualmachines/migrate",
            "virtualmachineinstances/guestosinfo"} <= names
