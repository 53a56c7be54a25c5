"""The environment, not the storage: a cluster section that makes cells undecidable.

One node that accepts VMs makes live migration impossible, and a KubeVirt without the
`ExpandDisks` gate never tells a running VM that its disk grew (nor grows a Filesystem
disk's `disk.img` at boot). Those cells must be `inconclusive` with the reason, never
`broken`; what the storage really lacks stays `unsupported`. A lean profile (the
families concerned) keeps the run short.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from suite.capabilities import FAMILY_CAPABILITIES
from tests.e2e.conftest import PROFILE, labelled_leftovers, run_suite
from tests.e2e.test_truth import RWX_BLOCK, driver
from tests.e2e.truth import expected_cells

GATES_WITHOUT_EXPAND = ["CPUManager", "Snapshot", "HotplugVolumes", "HostDevices",
                        "VMExport", "KubevirtSeccompProfile", "VMPersistentState"]
CLUSTER = {"schedulableNodes": 1, "featureGates": GATES_WITHOUT_EXPAND}
DRIVERS = [
    driver("e2e-one-block", modes=RWX_BLOCK, expansion="online", noise=["resize-retry"]),
    driver("e2e-one-fs", modes={"Filesystem": ["ReadWriteOnce", "ReadWriteMany"]},
           expansion="online"),
    driver("e2e-one-offline", expansion="offline"),
]
FAMILIES = ["provision", "expand", "migration"]


def lean_profile(folder: Path, name: str, families: list[str], **guest: Any) -> Path:
    profile = yaml.safe_load(PROFILE.read_text())
    profile["name"], profile["families"] = name, families
    profile["guest"].update(guest)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


def selected(cells: dict[str, str], families: list[str]) -> dict[str, str]:
    """The cells of the profile's families (by the catalogue, not by id prefix:
    `migration.storage` belongs to `storage_migration`, not to `migration`)."""
    caps = {cap for family in families for cap in FAMILY_CAPABILITIES[family]}
    return {cap: v for cap, v in cells.items() if cap in caps}


@pytest.mark.slow
def test_single_node_and_no_expand_disks_gate_are_inconclusive(lab_process: Any,
                                                               tmp_path: Path) -> None:
    lab = lab_process(DRIVERS, CLUSTER)
    profile = lean_profile(tmp_path, "cluster", FAMILIES)
    result = run_suite(lab.kubeconfig, tmp_path / "reports", "--profile", str(profile))
    matrix = result.matrix()
    got = result.verdicts()
    for entry in DRIVERS:
        want = selected(expected_cells(entry, CLUSTER), FAMILIES)
        assert selected(got[entry["name"]], FAMILIES) == want, (
            entry["name"], {c: v["reason"] for sc in matrix["storageClasses"]
                            if sc["name"] == entry["name"]
                            for c, v in sc["capabilities"].items()})
    reasons = {(sc["name"], cap): cell["reason"] for sc in matrix["storageClasses"]
               for cap, cell in sc["capabilities"].items()}
    assert "second schedulable node" in reasons[("e2e-one-block", "migration.live")]
    assert "ExpandDisks" in reasons[("e2e-one-block", "expand.online")]
    assert "ExpandDisks" in reasons[("e2e-one-fs", "expand.offline")]
    assert reasons[("e2e-one-block", "expand.offline")].startswith("guest disk grew")
    assert labelled_leftovers(lab.kubeconfig) == []
    assert "Traceback" not in result.stdout + result.stderr
