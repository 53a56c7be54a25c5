"""Workload profiles are strict, and judging follows thresholds, needs and missing data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from suite.config.errors import ConfigError
from suite.report.schema import validate_matrix
from suite.report.scorecard import add_scorecard, markdown_lines, terminal_lines
from suite.workloads.judging import judge
from suite.workloads.loading import load_builtin, load_workloads, parse_workload


def need_iops(name: str, warn: float, fail: float) -> Any:
    return parse_workload({"name": name, "figures": [
        {"source": "fio", "job": {"rw": "randread", "bs": "4k"}, "metric": "iops",
         "direction": "higher", "warn": warn, "fail": fail, "unit": "IOPS"}]}, name)


def fio_entry(iops: float, repeats: list[float] | None = None, **options: Any) -> dict[str, Any]:
    opts = {"rw": "randread", "bs": 4096, "iodepth": 16, **options}
    return {"job": "qd16", "readIops": iops, "writeIops": 0.0, "readBwMiBs": 1.0,
            "writeBwMiBs": 0.0, "latencyUs": {"p50": 1, "p90": 2, "p99": 3, "p99.9": 4,
                                              "max": 5},
            "options": opts, "repeats": len(repeats or [iops]),
            "perRepeat": [{"readIops": r, "writeIops": 0.0} for r in (repeats or [iops])]}


def klass(cells: dict[str, str], fio: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": "sc", "provisioner": "p", "facts": {},
            "capabilities": {c: {"verdict": v, "reason": f"{c} {v}", "evidence": {},
                                 "seconds": 0} for c, v in cells.items()},
            "performance": {"fio": fio}}


def test_thresholds_decide_with_the_value_and_how_sure() -> None:
    sc = klass({}, [fio_entry(800, [790, 800, 810])])
    unfit = judge(need_iops("needs-5000", 8000, 5000), sc)
    assert unfit["fitness"] == "unfit"
    assert unfit["decidedBy"]["value"] == 800 and unfit["decidedBy"]["fail"] == 5000
    assert "800 IOPS < fail 5,000" in unfit["reason"]
    sure = unfit["decidedBy"]["certainty"]
    assert sure["samples"] == 3 and sure["confidence"] == "firm" and sure["spread"] < 0.02
    assert judge(need_iops("needs-500", 500, 300), sc)["fitness"] == "fit"
    marginal = judge(need_iops("needs-1000", 1000, 500), sc)
    assert marginal["fitness"] == "marginal" and "past warn 1,000" in marginal["reason"]


def test_not_measured_is_never_fit() -> None:
    other_job = klass({}, [fio_entry(50000, rw="randwrite")])
    result = judge(need_iops("needs-500", 500, 300), other_job)
    assert result["fitness"] == "not-assessed"
    assert "no fio job with rw=randread, bs=4096 ran" in result["reason"]


def test_a_missing_capability_makes_the_class_unfit_and_says_which() -> None:
    oltp = next(w for w in load_builtin() if w.name == "oltp-database")
    fast = [fio_entry(1e6, rw="randrw", bs=8192, rwmixread=70)]
    sc = klass({"snapshot.vm": "supported", "migration.live": "unsupported"}, fast)
    result = judge(oltp, sc)
    assert result["fitness"] == "unfit"
    assert result["reason"] == "needs migration.live, which is unsupported"
    sc = klass({"snapshot.vm": "supported", "migration.live": "inconclusive"}, fast)
    assert judge(oltp, sc)["fitness"] == "not-assessed"


def test_bootstorm_figures_come_from_the_cell() -> None:
    vdi = next(w for w in load_builtin() if w.name == "vdi-bootstorm")
    evidence = {"vms": 3, "loginSeconds": {"p50": 5, "p95": 200, "max": 210},
                "readySeconds": {"p50": 6, "p95": 20, "max": 21},
                "perVm": [{"loginSeconds": 5}, {"loginSeconds": 6}, {"loginSeconds": 210}]}
    sc = klass({"clone.volume": "supported", "scale.bootstorm": "supported"}, [])
    sc["capabilities"]["scale.bootstorm"]["evidence"] = evidence
    result = judge(vdi, sc)
    assert result["fitness"] == "unfit" and "login p95 200 s > fail 180" in result["reason"]
    sc["capabilities"]["scale.bootstorm"]["verdict"] = "broken"
    assert judge(vdi, sc)["fitness"] == "not-assessed"


def test_scorecard_is_in_the_matrix_schema_and_views() -> None:
    matrix = {"schema": "kubevirt-storage-matrix/v1",
              "run": {"id": "r", "started": "a", "finished": "b", "profile": "p",
                      "suiteVersion": "0", "cluster": {"server": "s", "kubernetesVersion": "1",
                                                       "kubevirtVersion": "1",
                                                       "cdiVersion": "1"}},
              "storageClasses": [klass({"migration.live": "unsupported"}, [])]}
    add_scorecard(matrix)
    validate_matrix(matrix)
    names = {d["name"] for d in matrix["workloads"]["definitions"]}
    assert names == {"oltp-database", "etcd-like", "vdi-bootstorm", "backup-stream"}
    assert matrix["storageClasses"][0]["workloads"]["oltp-database"]["fitness"] == "unfit"
    assert any("oltp-database" in line and "UNFIT" in line for line in terminal_lines(matrix))
    assert any("needs migration.live, which is unsupported" in line
               for line in markdown_lines(matrix))


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "x", "figures": [{"source": "fio", "metric": "iops", "direction": "higher",
                                "warn": 1, "fail": 2}]}, "figures[0].fail: with direction"),
    ({"name": "x", "figures": [{"source": "fio", "metric": "iops", "direction": "up",
                                "warn": 1, "fail": 1}]}, "figures[0].direction"),
    ({"name": "x", "figures": [{"source": "fio", "metric": "iops", "direction": "higher",
                                "warn": 1, "fial": 1}]}, "figures[0].fial: unknown key"),
    ({"name": "x", "needs": ["snapshot.vms"]}, "needs[0]: unknown capability id"),
    ({"name": "x", "figures": [{"source": "fio", "metric": "latencyUs.p98",
                                "direction": "lower", "warn": 1, "fail": 2}]},
     "figures[0].metric: unknown fio metric"),
    ({"name": "x", "colour": "red", "needs": ["clone.volume"]}, "colour: unknown key"),
])
def test_mistakes_are_one_line_errors_with_the_path(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_workload(data, "w.yaml")
    text = str(caught.value)
    assert text.startswith("workload w.yaml: ") and message in text and "\n" not in text


def test_loading_names_files_and_unknown_names(tmp_path: Path) -> None:
    assert [w.name for w in load_workloads(["etcd-like"])] == ["etcd-like"]
    with pytest.raises(ConfigError, match="built-in workloads: backup-stream"):
        load_workloads(["nope"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_workloads([str(bad)])


def test_the_assessment_job_set_covers_every_builtin_workload() -> None:
    from suite.config.profile import load_profile
    from suite.workloads.judging import matches

    jobs = [job.options() for job in load_profile("assessment").fio.jobs]
    for workload in load_builtin():
        for figure in workload.figures:
            if figure.source == "fio":
                assert any(matches(figure.job, options) for options in jobs), (
                    workload.name, figure.label)
    assert "bootstorm" in load_profile("assessment").families


def test_parallel_entries_show_their_spread_in_the_report_tables() -> None:
    from suite.report.perf_markdown import perf_row

    entry = {**fio_entry(600), "vms": 2, "spreadBetweenVms": {
        "vms": 2, "iopsMin": 290.0, "iopsMax": 310.0, "iopsRatio": 1.069}}
    row = perf_row("lab", entry)
    assert (row["VMs"], row["IOPS per VM min/max"], row["max/min"]) == ("2", "290 / 310", "1.07")
    assert "VMs" not in perf_row("lab", fio_entry(600))


@pytest.mark.slow
def test_a_profile_names_its_workloads_and_a_typo_is_a_usage_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    from suite.config.profile import parse_profile

    assert parse_profile({"name": "p", "workloads": ["etcd-like"]}, "p").workloads == (
        "etcd-like",)
    profile = tmp_path / "p.yaml"
    profile.write_text("name: p\nfamilies: [provision]\nworkloads: [etcd-lkie]\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "suite", "--lab", "-p",
                           "no:cacheprovider", "--profile", str(profile), "--collect-only",
                           "-q"], cwd=Path(__file__).resolve().parents[2],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "workload 'etcd-lkie' not found; built-in workloads:" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr + done.stdout
