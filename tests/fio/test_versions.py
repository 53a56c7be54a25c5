"""fio as guest images carry it: 3.1 (Ubuntu 18.04), 3.16 (Ubuntu 20.04), 3.3x (Fedora).

The fixtures in `data/` are one real fio 3.3x run of the suite's own job file,
kept as fio printed it and rewritten into the layouts fio 3.16 and 3.1 print for
the same I/Os (`data/make_fixtures.py` says which stat.c change each rewrite
follows). Each test reads the figures fio printed straight from the JSON, at the
place that version prints them, and checks the parser gives exactly those, and
that every version gives the same matrix figures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from suite.fio.errors import FioOutputError, FioUnavailable, FioUnsupportedVersion
from suite.fio.jobs import parse_job_set
from suite.fio.parse import FioRun, parse_output
from suite.fio.runner import run_job_set

DATA = Path(__file__).parent / "data"
VERSIONS = ("fio-3.3x", "fio-3.16", "fio-3.1")
FORMATS = ("json", "jsonplus")
AREA = 16 * 1024 * 1024
JOBS = parse_job_set({"jobs": [
    {"name": "lat-randread", "rw": "randread", "bs": "4k", "runtime_s": 1},
    {"name": "fsync-write", "rw": "write", "bs": "4k", "ioengine": "sync", "fdatasync": 1,
     "runtime_s": 1},
    {"name": "mix", "rw": "randrw", "bs": "8k", "rwmixread": 70, "iodepth": 4, "runtime_s": 1},
]}, "tests/fio/test_versions.py")


def _text(name: str) -> str:
    return (DATA / f"{name}.json").read_text()


def _raw(name: str) -> dict[str, Any]:
    return json.loads(_text(name))


def _printed_percentiles(version: str, direction: dict[str, Any]) -> dict[float, int]:
    """Where each version prints total-latency percentiles (lat_percentiles=1)."""
    if version == "fio-3.1":  # under clat_ns, padded with "0.00": 0 (json keeps one)
        printed = direction["clat_ns"].get("percentile", {})
        return {float(k): v for k, v in printed.items() if k != "0.00"}
    return {float(k): v for k, v in direction["lat_ns"].get("percentile", {}).items()}


def _printed_bins(version: str, direction: dict[str, Any]) -> dict[int, int]:
    home = direction["clat_ns"] if version == "fio-3.1" else direction["lat_ns"]
    return {int(k): v for k, v in home.get("bins", {}).items()}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("version", VERSIONS)
def test_each_version_reads_exactly_what_fio_printed(version: str, fmt: str) -> None:
    name = f"{version}.{fmt}"
    raw, run = _raw(name), parse_output(_text(name))
    assert run.version.startswith(version.rstrip("x"))
    checked = 0
    for raw_job, job in zip(raw["jobs"], run.jobs, strict=True):
        assert job.name == raw_job["jobname"]
        for dname in ("read", "write"):
            printed = raw_job[dname]
            if not printed["total_ios"]:
                assert dname not in job.dirs
                continue
            d = job.dirs[dname]
            assert d.iops == printed["iops"] and d.total_ios == printed["total_ios"]
            assert int(d.bw_bytes) // 1024 == printed["bw"]  # KiB/s, as every version prints
            if "bw_bytes" in printed:
                assert d.bw_bytes == printed["bw_bytes"]
            assert d.lat is not None
            assert d.lat.n == printed["lat_ns"].get("N", printed["total_ios"])
            assert d.lat.mean_ns == printed["lat_ns"]["mean"]
            assert d.lat.percentiles == _printed_percentiles(version, printed)
            assert set(d.lat.percentiles) == {50.0, 90.0, 95.0, 99.0, 99.9, 99.99}
            assert d.lat.bins == _printed_bins(version, printed)
            if fmt == "jsonplus":
                assert sum(d.lat.bins.values()) == d.lat.n
            checked += 1
    assert checked == 5  # prefill write, randread, fdatasync write, mix read and write


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("version", VERSIONS[1:])
def test_older_layouts_give_the_same_figures_as_fio_3_3x(version: str, fmt: str) -> None:
    new, old = parse_output(_text(f"fio-3.3x.{fmt}")), parse_output(_text(f"{version}.{fmt}"))
    for new_job, old_job in zip(new.jobs, old.jobs, strict=True):
        for dname in ("read", "write", "mixed"):
            if dname in new_job.dirs:
                assert old_job.dirs[dname] == new_job.dirs[dname]


def test_fsync_latency_of_fio_3_16_keeps_its_count() -> None:
    """fio < 3.18 prints no fdatasync count; one call per `fdatasync` writes gives it."""
    new = parse_output(_text("fio-3.3x.jsonplus")).job("fsync-write").dirs["sync"].lat
    old = parse_output(_text("fio-3.16.json")).job("fsync-write").dirs["sync"].lat
    assert new is not None and old is not None
    assert abs(old.n - new.n) <= 1 and old.n > 0
    assert (old.mean_ns, old.max_ns) == (new.mean_ns, new.max_ns)
    assert old.percentiles == {}  # fio 3.16 prints none for fsyncs without clat_percentiles
    assert "sync" not in parse_output(_text("fio-3.1.json")).job("fsync-write").dirs  # 3.4+


def _entries(name: str, repeats: int, jobs: int = len(JOBS)) -> list[dict[str, Any]]:
    text = _text(name)
    result = run_job_set(lambda _job_file: text, JOBS[:jobs], size_bytes=AREA, repeats=repeats)
    return result.matrix_entries()


@pytest.mark.parametrize("version", VERSIONS[1:])
def test_matrix_figures_do_not_depend_on_the_fio_version(version: str) -> None:
    """Two repeats merged: before, fio < 3.18 counts read as 0 and the merge dropped them."""
    new, old = _entries("fio-3.3x.jsonplus", 2), _entries(f"{version}.jsonplus", 2)
    assert {e["fioVersion"] for e in old} == {version}
    for new_entry, old_entry in zip(new, old, strict=True):
        assert old_entry["latencyUs"] and old_entry["latencyUs"] == new_entry["latencyUs"]
        for key in ("readIops", "writeIops", "readBwMiBs", "writeBwMiBs", "ios",
                    "readLatencyUs", "writeLatencyUs"):
            assert old_entry.get(key) == new_entry.get(key), key
    fsync_new, fsync_old = new[1], old[1]
    assert fsync_new["syncLatencyUs"]["p99"] > 0
    if version == "fio-3.16":
        assert fsync_old["syncLatencyUs"]["mean"] == fsync_new["syncLatencyUs"]["mean"]
    else:
        assert "syncLatencyUs" not in fsync_old  # fio 3.1 reports no fsync latency at all


def test_plain_json_of_one_repeat_keeps_fios_percentiles() -> None:
    """Without bins nothing can be merged, but one job and direction stands as fio printed it."""
    expected = _entries("fio-3.3x.jsonplus", 1, jobs=1)[0]["latencyUs"]
    assert set(expected) >= {"p50", "p99", "p99.99", "mean", "max"}
    for version in VERSIONS:
        assert _entries(f"{version}.json", 1, jobs=1)[0]["latencyUs"] == expected


def _documents(text: str) -> list[dict[str, Any]]:
    decoder, docs, pos = json.JSONDecoder(), [], 0
    while (start := text.find("{", pos)) >= 0:
        doc, pos = decoder.raw_decode(text, start)
        docs.append(doc)
    return docs


def test_the_last_of_several_status_dumps_is_the_result() -> None:
    text = _text("fio-3.3x.status-dumps")
    docs = _documents(text)
    assert len(docs) >= 3  # real --status-interval=1 dumps of a 3 s job, then the final one
    run = parse_output(text)
    first, last = (d["jobs"][0]["read"] for d in (docs[0], docs[-1]))
    read = run.jobs[0].dirs["read"]
    assert read.total_ios == last["total_ios"] > first["total_ios"]
    assert read.lat is not None and read.lat.n == last["lat_ns"]["N"]
    assert run.warnings == []


def test_a_cut_final_dump_is_an_error_not_an_earlier_dump() -> None:
    text = _text("fio-3.3x.status-dumps")
    cut = text[: text.rindex('"fio version"') + 300]
    with pytest.raises(FioOutputError, match="truncated or invalid"):
        parse_output(cut)


def test_fio_2_is_refused_in_one_line() -> None:
    with pytest.raises(FioUnsupportedVersion) as caught:
        parse_output(_text("fio-2.17.json"))
    message = str(caught.value)
    assert isinstance(caught.value, FioUnavailable)  # the perf cell turns it into inconclusive
    assert "\n" not in message and "fio-2.17" in message and "3.1 or newer" in message


@pytest.mark.parametrize("version", ["fio-git", "", "3.33"])
def test_an_unreadable_version_is_refused_in_one_line(version: str) -> None:
    doc = _raw("fio-3.3x.json")
    doc["fio version"] = version
    with pytest.raises(FioUnsupportedVersion, match="version cannot be read"):
        parse_output(json.dumps(doc))


def test_the_runner_stops_at_an_old_fio_with_the_fix() -> None:
    text = _text("fio-2.17.json")
    with pytest.raises(FioUnavailable, match=r"fio-2\.17.*3\.1 or newer"):
        run_job_set(lambda _job_file: text, JOBS[1:2], size_bytes=AREA)


def test_fixtures_are_what_make_fixtures_describes() -> None:
    """Guards the fixtures against hand edits: shapes as the generator documents them."""
    runs: dict[str, FioRun] = {v: parse_output(_text(f"{v}.jsonplus")) for v in VERSIONS}
    assert runs["fio-3.1"].version == "fio-3.1" and runs["fio-3.16"].version == "fio-3.16"
    old = _text("fio-3.1.json")
    assert old.count('"0.00"') >= 14 and '"bw_bytes"' not in old and '"N"' not in old
    assert '"N"' not in _text("fio-3.16.json") and '"bw_bytes"' in _text("fio-3.16.json")
    assert '"N"' in _text("fio-3.3x.json") and runs["fio-3.3x"].version.startswith("fio-3.3")


def test_a_failure_message_refuses_only_old_versions() -> None:
    from suite.fio.compat import refusal_in
    assert refusal_in("fio failed (fio-3.33): fio: pid=0, err=22") is None
    assert refusal_in("fio failed (): Bad option <lat_percentiles=1>") is None
    old = refusal_in("fio failed (fio-3.0): Bad option <lat_percentiles=1>")
    assert old is not None and "lat_percentiles" in str(old)
