"""A report folder kept as a CI artifact is a baseline: matrix.json + fio.csv."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from suite.config.errors import ConfigError
from suite.history.baseline import check_spec
from suite.history.cli import compare_command
from suite.history.record import from_report_dir
from suite.report.writer import write_fio_csv


def write_report(folder: Path, run_id: str, iops: list[float], snapshot: str) -> Path:
    folder.mkdir(parents=True)
    matrix = {"schema": "kubevirt-storage-matrix/v1",
              "run": {"id": run_id, "started": "s", "finished": "f", "profile": "nightly",
                      "suiteVersion": "0.1.0", "interrupted": False,
                      "cluster": {"kubernetesVersion": "1.31", "kubevirtVersion": "1.4",
                                  "cdiVersion": "1.60"}},
              "storageClasses": [{"name": "a", "provisioner": "a.csi",
                                  "facts": {"parameters": {"pool": "x"}},
                                  "capabilities": {"snapshot.volume": {
                                      "verdict": snapshot, "reason": "r"}}}]}
    (folder / "matrix.json").write_text(json.dumps(matrix))
    write_fio_csv(folder / "fio.csv", [
        {"storageClass": "a", "job": "rr", "repeat": i, "readIops": v, "writeIops": 0.0,
         "lat_p99_us": 100.0, "volumeMode": "Block"} for i, v in enumerate(iops, 1)])
    return folder


def test_folder_round_trip_and_offline_compare(tmp_path: Path, capsys) -> None:
    a = write_report(tmp_path / "a", "run-a", [1000, 1002, 998, 1001, 999], "supported")
    b = write_report(tmp_path / "b", "run-b", [700, 702, 698, 701, 699], "broken")
    rec = from_report_dir(a)
    assert rec.values("a", "rr", "Block", "readIops") == [1000, 1002, 998, 1001, 999]
    assert rec.cells[("a", "snapshot.volume")] == ("supported", "r") and rec.complete
    assert compare_command([str(a), str(b), "--history", str(tmp_path / "none"),
                            "--fail-on", "regression"]) == 1
    out = capsys.readouterr().out
    regressions = out.split("### Regressions (2)")[1].split("### Improvements")[0]
    assert "snapshot.volume" in regressions and "rr.Block.readIops" in regressions
    assert "lat_p99_us" not in regressions


def test_bad_baselines_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"folder has no matrix\.json"):
        check_spec(str(tmp_path / "empty"), tmp_path / "h.sqlite")
    with pytest.raises(ConfigError, match="drop --no-history"):
        check_spec("latest", None)
    with pytest.raises(ConfigError, match="no history at"):
        check_spec("run-7", tmp_path / "h.sqlite")
    check_spec("latest", tmp_path / "h.sqlite")  # nothing stored yet is fine: no comparison
