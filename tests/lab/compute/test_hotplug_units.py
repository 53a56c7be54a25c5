"""Pure rules of the hotplug API: virt-api's option checks and refusals, applying a
request to a VMI spec, and keeping the hotplug phases when the VMI status is rebuilt."""

from __future__ import annotations

from typing import Any

from suite.lab.compute.hotplug import apply, keep_hotplug, verify

ROOT = {"name": "rootdisk", "containerDisk": {"image": "x"}}
HOT = {"name": "extra", "dataVolume": {"name": "dv-extra", "hotpluggable": True}}


def _add(name: str, dv: str) -> dict[str, Any]:
    return {"addVolumeOptions": {"name": name, "disk": {"name": name, "serial": name,
                                                        "disk": {"bus": "virtio"}},
                                 "volumeSource": {"dataVolume": {"name": dv,
                                                                 "hotpluggable": True}}}}


def test_verify_refusals_use_upstream_texts() -> None:
    assert verify([ROOT], _add("rootdisk", "a")) == (
        "Unable to add volume [rootdisk] because volume with that name already exists")
    assert verify([ROOT, HOT], _add("other", "dv-extra")) == (
        "Unable to add volume source [dv-extra] because it already exists")
    assert verify([ROOT], {"removeVolumeOptions": {"name": "rootdisk"}}) == (
        "Unable to remove volume [rootdisk] because it is not hotpluggable")
    assert verify([ROOT], {"removeVolumeOptions": {"name": "gone"}}) == (
        "Unable to remove volume [gone] because it does not exist")
    assert verify([ROOT, HOT], {"removeVolumeOptions": {"name": "dv-extra"}}) is None
    assert verify([ROOT], _add("new", "dv-new")) is None


def test_apply_adds_and_removes_volume_and_disk_without_touching_the_input() -> None:
    spec = {"domain": {"devices": {"disks": [{"name": "rootdisk"}]}}, "volumes": [ROOT]}
    added = apply(spec, _add("extra", "dv-extra"))
    assert [v["name"] for v in added["volumes"]] == ["rootdisk", "extra"]
    assert added["domain"]["devices"]["disks"][1]["serial"] == "extra"
    assert spec["volumes"] == [ROOT]
    removed = apply(added, {"removeVolumeOptions": {"name": "dv-extra"}})
    assert removed["volumes"] == [ROOT]
    assert removed["domain"]["devices"]["disks"] == [{"name": "rootdisk"}]


def test_keep_hotplug_keeps_phases_and_unplugging_entries() -> None:
    fresh = [{"name": "extra", "target": "vdc"}, {"name": "rootdisk", "target": "vda"}]
    old = [{"name": "extra", "target": "", "phase": "MountedToPod", "reason": "r",
            "message": "m", "hotplugVolume": {"attachPodName": "hp-volume-abcde"}},
           {"name": "leaving", "phase": "Detaching", "hotplugVolume": {}},
           {"name": "rootdisk", "target": "vda"}]
    merged = {e["name"]: e for e in keep_hotplug(old, fresh)}
    assert merged["extra"]["phase"] == "MountedToPod" and merged["extra"]["target"] == ""
    assert merged["leaving"]["phase"] == "Detaching"
    assert "phase" not in merged["rootdisk"]
    ready = [dict(old[0], phase="Ready")]
    assert keep_hotplug(ready, fresh)[0]["target"] == "vdc"
