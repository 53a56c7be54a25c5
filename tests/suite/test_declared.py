"""One home for "what a class declares": discovery, checks, assessment and reports agree.

The StorageClass parameter sets are those real CSI drivers document (ceph-csi,
AWS EBS, Azure Disk, GCE PD, Portworx, Longhorn, NetApp Trident, IBM VPC Block).
Each goes through the real discovery function, then every reader is asked the
same question; a reader with its own rule would disagree on one of them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from suite.assessment import judge_without_volume
from suite.checks import encryption
from suite.checks.base import CAPABILITIES, ClassContext, Outcome
from suite.cluster.declared import Declarations, declarations, derive
from suite.cluster.discovery import class_facts
from suite.config.profile import parse_profile
from suite.report import declared as report_declared
from suite.report.matrix import ClassResult, RunInfo, build_matrix
from suite.vm import memo

ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DES = ("/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Compute/"
       "diskEncryptionSets/des")
GCP_KEY = "projects/p/locations/us-central1/keyRings/ring/cryptoKeys/key"

# (provisioner, parameters, declares encryption at rest)
DRIVERS: list[tuple[str, dict[str, str], bool]] = [
    ("openshift-storage.rbd.csi.ceph.com",
     {"clusterID": "openshift-storage", "pool": "ocs-storagecluster-cephblockpool",
      "imageFeatures": "layering,deep-flatten,exclusive-lock,object-map,fast-diff",
      "encrypted": "true", "encryptionKMSID": "1-vault",
      "csi.storage.k8s.io/fstype": "ext4"}, True),
    ("openshift-storage.rbd.csi.ceph.com",
     {"clusterID": "openshift-storage", "pool": "p", "imageFeatures": "layering"}, False),
    ("rbd.csi.ceph.com", {"pool": "p", "encrypted": "false", "encryptionKMSID": "vault"},
     False),
    ("rbd.csi.ceph.com", {"pool": "p", "encrypted": "luks2"}, True),
    ("cephfs.csi.ceph.com", {"fsName": "fs", "encrypted": "true",
                             "encryptionKMSID": "kms"}, True),
    ("ebs.csi.aws.com", {"type": "gp3", "encrypted": "true", "kmsKeyId": ARN}, True),
    ("ebs.csi.aws.com", {"type": "gp3", "kmsKeyId": ARN}, False),  # ignored without encrypted
    ("ebs.csi.aws.com", {"type": "io2", "iopsPerGB": "50", "encrypted": "false"}, False),
    ("disk.csi.azure.com", {"skuName": "Premium_LRS", "diskEncryptionSetID": DES}, True),
    ("disk.csi.azure.com", {"skuname": "StandardSSD_LRS", "kind": "managed"}, False),
    ("pd.csi.storage.gke.io", {"type": "pd-balanced", "disk-encryption-kms-key": GCP_KEY},
     True),
    ("pd.csi.storage.gke.io", {"type": "pd-ssd", "replication-type": "none"}, False),
    ("pxd.portworx.com", {"repl": "3", "secure": "true"}, True),
    ("pxd.portworx.com", {"repl": "2", "io_profile": "db_remote", "secure": "false"}, False),
    ("driver.longhorn.io", {"numberOfReplicas": "3", "encrypted": "true",
                            "csi.storage.k8s.io/provisioner-secret-name": "longhorn-crypto"},
     True),
    ("csi.trident.netapp.io", {"backendType": "ontap-san", "encryption": "true"}, True),
    ("vpc.block.csi.ibm.io", {"profile": "10iops-tier", "encrypted": "true",
                              "encryptionKey": "crn:v1:bluemix:public:kms:key"}, True),
    ("kubernetes.io/no-provisioner", {}, False),
]
IDS = [f"{p}-{i}" for i, (p, _, _) in enumerate(DRIVERS)]
PROFILE_SETS = [{"accessModes": ["ReadWriteOnce"]},  # volumeMode left out: Filesystem
                {"volumeMode": "Block", "accessModes": ["ReadWriteOnce", "ReadWriteMany"]}]


def discovered(provisioner: str, parameters: dict[str, str],
               sets: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Facts exactly as discovery builds them from the listed objects."""
    sc = {"metadata": {"name": "sc"}, "provisioner": provisioner, "parameters": parameters,
          "allowVolumeExpansion": True}
    profiles = {"sc": {"metadata": {"name": "sc"},
                       "status": {"claimPropertySets": PROFILE_SETS if sets is None else sets}}}
    return class_facts(sc, {}, [], profiles, [], {})


def ctx_for(facts: dict[str, Any]) -> ClassContext:
    return ClassContext(kube=None, namespace="ns", storage_class="sc",  # type: ignore[arg-type]
                        facts=facts, profile=parse_profile({"name": "t"}, "t.yaml"),
                        run_id="r-declared")


def matrix_cell(facts: dict[str, Any], capability: str) -> dict[str, Any]:
    run = RunInfo(id="r", started="s", finished="f", profile="p", suite_version="0",
                  cluster={"server": "x", "kubernetesVersion": "v", "kubevirtVersion": "v",
                           "cdiVersion": "v"})
    outcomes = {c: Outcome(c, "skipped", "t") for c in CAPABILITIES}
    matrix = build_matrix(run, [ClassResult("sc", facts, outcomes)])
    return matrix["storageClasses"][0]["capabilities"][capability]


@pytest.mark.parametrize(("provisioner", "parameters", "expected"), DRIVERS, ids=IDS)
def test_every_reader_agrees_on_encryption(provisioner: str, parameters: dict[str, str],
                                           expected: bool) -> None:
    facts = discovered(provisioner, parameters)
    cap = "encryption.at-rest"
    assert declarations(facts).encrypts is expected
    assert report_declared.declared(cap, facts) is expected
    assert bool(encryption.declared(parameters)) is expected
    assert matrix_cell(facts, cap)["declared"] is expected
    judged = judge_without_volume(cap, facts, "no volume could be provisioned")
    assert judged.verdict == ("skipped" if expected else "unsupported")
    checked = encryption.assess(ctx_for(facts))[0]  # no privileged pods: decided before a VM
    assert checked.verdict == ("inconclusive" if expected else "unsupported")
    assert checked.evidence["declaredBy"] == dict(declarations(facts).encryption_by)


def test_the_declaring_parameters_are_named() -> None:
    facts = discovered("ebs.csi.aws.com", {"type": "gp3", "encrypted": "true", "kmsKeyId": ARN})
    assert dict(declarations(facts).encryption_by) == {"encrypted": "true", "kmsKeyId": ARN}
    off = {"encrypted": "false", "diskEncryptionSetID": DES}  # a present switch decides
    assert encryption.declared(off) == {}


def test_discovery_records_declarations_in_the_facts_it_reports() -> None:
    facts = discovered("rbd.csi.ceph.com", {"encrypted": "true", "encryptionKMSID": "v"})
    recorded = json.loads(json.dumps(facts))["declared"]  # as matrix.json carries it
    assert recorded["encryptionBy"] == {"encrypted": "true", "encryptionKMSID": "v"}
    assert Declarations.from_json(recorded) == derive(facts) == declarations(facts)
    # Readers take discovery's record, not a second opinion from the raw parameters.
    facts["parameters"] = {}
    assert declarations(facts).encrypts and report_declared.declared(
        "encryption.at-rest", facts)


def test_mode_declarations_agree_between_matrix_and_volume_choice() -> None:
    facts = discovered("rbd.csi.ceph.com", {})
    pairs = memo.declared_pairs(facts)
    assert pairs == [("Filesystem", "ReadWriteOnce"), ("Block", "ReadWriteOnce"),
                     ("Block", "ReadWriteMany")]
    for cap in ("provision.block.rwo", "provision.block.rwx", "provision.filesystem.rwo",
                "provision.filesystem.rwx"):
        _, mode, access = cap.split(".")
        pair = ({"block": "Block", "filesystem": "Filesystem"}[mode],
                {"rwo": "ReadWriteOnce", "rwx": "ReadWriteMany"}[access])
        assert report_declared.declared(cap, facts) is (pair in pairs)
        assert matrix_cell(facts, cap)["declared"] is (pair in pairs)
    assert report_declared.declared("migration.live", facts) is True


def test_no_storage_profile_is_silence_everywhere() -> None:
    facts = discovered("rbd.csi.ceph.com", {}, sets=[])
    assert memo.declared_pairs(facts) == []
    assert report_declared.declared("provision.block.rwo", facts) is None
    assert judge_without_volume("migration.live", facts, "why").verdict == "skipped"
    assert memo.ModeMemo().candidates(facts) == [("Block", "ReadWriteOnce"),
                                                 ("Filesystem", "ReadWriteOnce")]


def test_every_capability_reads_the_same_from_every_reader() -> None:
    for provisioner, parameters, _ in DRIVERS:
        facts = discovered(provisioner, parameters)
        for cap in CAPABILITIES:
            said = declarations(facts).capability(cap)
            assert report_declared.declared(cap, facts) is said
            assert matrix_cell(facts, cap)["declared"] is said
            judged = judge_without_volume(cap, facts, "why")
            assert judged.verdict == ("unsupported" if said is False else "skipped"), cap
