"""Pure logic of the families: declarations, mode order, restore judgement, manifests."""

from __future__ import annotations

import base64

import yaml

from suite.checks.base import Cell
from suite.checks.encryption import declared
from suite.checks.snapshot import DATA_BYTES, judge_restore
from suite.guest.console import clean
from suite.guest.pattern import zero_sha256
from suite.guest.probe import GUEST_PATH, script_text
from suite.vm import memo, userdata
from suite.vm.manifests import DataDisk, GuestSpec, virtual_machine
from suite.vm.naming import unique_name


def test_encryption_declarations_of_real_drivers() -> None:
    assert declared({"encrypted": "true", "encryptionKMSID": "vault"}) == {
        "encrypted": "true", "encryptionKMSID": "vault"}
    assert declared({"diskEncryptionSetID": "/subscriptions/x"}) == {
        "diskEncryptionSetID": "/subscriptions/x"}
    assert declared({"encrypted": "false", "type": "gp3"}) == {}
    assert declared({"csi.storage.k8s.io/fstype": "ext4"}) == {}


def test_candidates_skip_dead_modes_and_prefer_proven_ones() -> None:
    facts = {"storageProfile": {"claimPropertySets": [
        {"volumeMode": "Filesystem", "accessModes": ["ReadWriteOnce"]}]}}
    learned = memo.ModeMemo()
    assert learned.candidates(facts) == [("Filesystem", "ReadWriteOnce"),
                                         ("Block", "ReadWriteOnce")]
    learned.record("Filesystem", "ReadWriteOnce", memo.Finding("hung", "x"))
    learned.record("Block", "ReadWriteOnce", memo.Finding("ok"))
    assert learned.candidates(facts) == [("Block", "ReadWriteOnce")]
    # another class (or run) has a memo of its own: it learned nothing yet
    assert memo.ModeMemo().candidates(facts) == [("Filesystem", "ReadWriteOnce"),
                                                 ("Block", "ReadWriteOnce")]


def test_restore_is_judged_on_bytes() -> None:
    def verdict(read: str) -> str:
        return judge_restore(Cell("snapshot.volume"), read, "aaa", "bbb", "X").verdict

    assert verdict("aaa") == "supported"
    assert verdict("bbb") == "broken"
    assert verdict(zero_sha256(DATA_BYTES)) == "broken"
    assert verdict("ccc") == "broken"


def test_vm_manifest_delivers_the_probe_and_serials() -> None:
    guest = GuestSpec("img:1", "fedora", "pw", packages=("fio", "fio-engine-libaio"))
    disk = DataDisk(name="vm1-data", serial="kvsdata", storage_class="gold",
                    volume_mode="Block", access_mode="ReadWriteMany", size_bytes=1 << 30)
    vm = virtual_machine("vm1", "ns", guest, [disk], user_data_secret="vm1-init")
    spec = vm["spec"]["template"]["spec"]
    assert {"name": "vm1-data", "disk": {"bus": "virtio"}, "serial": "kvsdata"} in \
        spec["domain"]["devices"]["disks"]
    storage = vm["spec"]["dataVolumeTemplates"][0]["spec"]["storage"]
    assert storage == {"storageClassName": "gold", "volumeMode": "Block",
                       "accessModes": ["ReadWriteMany"],
                       "resources": {"requests": {"storage": str(1 << 30)}}}
    cloud = next(v for v in spec["volumes"] if "cloudInitNoCloud" in v)
    # never inline: KubeVirt refuses inline user data over 2048 bytes
    assert cloud["cloudInitNoCloud"] == {"secretRef": {"name": "vm1-init"}}
    secret = userdata.secret("vm1-init", "ns", guest)
    text = base64.b64decode(secret["data"][userdata.SECRET_KEY]).decode()
    assert len(text) > userdata.INLINE_LIMIT
    assert text.startswith("#cloud-config\n") and text == userdata.cloud_config(guest)
    doc = yaml.safe_load(text)
    assert (doc["user"], doc["password"]) == ("fedora", "pw")
    assert doc["packages"] == ["fio", "fio-engine-libaio"]
    assert doc["write_files"][0]["path"] == GUEST_PATH
    assert doc["write_files"][0]["content"] == script_text()
    assert "packages" not in yaml.safe_load(userdata.cloud_config(GuestSpec("i", "u", "p")))


def test_names_are_short_dns_labels_per_class() -> None:
    a = unique_name("Very_Long.StorageClass.Name-for-a-vendor", "snapshot")
    b = unique_name("Very_Long.StorageClass.Name-for-another", "snapshot")
    assert len(a) <= 44 and a == a.lower() and a.replace("-", "").isalnum()
    assert a.rsplit("-", 1)[0] != b.rsplit("-", 1)[0]


def test_terminal_noise_is_cleaned() -> None:
    assert clean("\x1b[?2004hls\r\n\x1b[0mout\r\n") == "ls\nout\n"
