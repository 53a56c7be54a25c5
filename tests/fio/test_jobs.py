"""Job sets are validated strictly and always render an honest fio job file."""

from __future__ import annotations

import re

import pytest

from suite.fio.errors import JobSetError
from suite.fio.jobs import parse_fio_section, parse_job_set, render_job_file
from suite.fio.jobsets import JOB_SETS

PATH = "profiles/quick.yaml"


def _jobs(*extra: dict) -> list[dict]:
    base = [{"name": "a", "rw": "randread", "bs": "4k"}, {"name": "b", "rw": "write", "bs": "1M"}]
    return base + list(extra)


def _error(data: object) -> str:
    with pytest.raises(JobSetError) as info:
        parse_job_set(data, PATH)
    return str(info.value)


def test_unknown_key_names_file_and_field_path() -> None:
    message = _error({"jobs": _jobs({"name": "c", "rw": "read", "bs": "4k", "iodpeth": 4})})
    assert message.startswith("profiles/quick.yaml: fio.jobs[2].iodpeth: unknown key")


@pytest.mark.parametrize(("entry", "where", "words"), [
    ({"name": "c", "rw": "randwrites", "bs": "4k"}, "fio.jobs[2].rw", "expected one of"),
    ({"name": "c", "rw": "write", "bs": 2300}, "fio.jobs[2].bs", "multiple of 512"),
    ({"name": "c", "rw": "write", "bs": "4k", "iodepth": 0}, "fio.jobs[2].iodepth", "1 to 1024"),
    ({"name": "c", "rw": "write", "bs": "4k", "ioengine": "sync", "iodepth": 8},
     "fio.jobs[2].iodepth", "synchronous"),
    ({"name": "c", "rw": "write", "bs": "4k", "rwmixread": 70}, "fio.jobs[2].rwmixread", "randrw"),
    ({"name": "a", "rw": "write", "bs": "4k"}, "fio.jobs[2].name", "duplicate"),
    ({"name": "prefill", "rw": "write", "bs": "4k"}, "fio.jobs[2].name", "job name"),
    ({"rw": "write", "bs": "4k"}, "fio.jobs[2].name", "missing"),
])
def test_bad_values_are_one_line_errors_with_paths(entry: dict, where: str, words: str) -> None:
    message = _error({"jobs": _jobs(entry)})
    assert message.startswith(f"{PATH}: {where}: ")
    assert words in message and "\n" not in message


def test_section_keys_are_strict_too() -> None:
    assert _error({"jobset": "quick"}).startswith(f"{PATH}: fio.jobset: unknown key")
    assert _error({"jobSet": "nightly"}).startswith(f"{PATH}: fio.jobSet: unknown job set")
    assert _error({"repeats": 0}).startswith(f"{PATH}: fio.repeats: ")


def test_builtin_sets_parse_and_cover_the_required_workloads() -> None:
    for name, data in JOB_SETS.items():
        settings = parse_fio_section(name, PATH)
        assert settings.repeats == data["repeats"]
        kinds = {(j.rw, j.bs, j.outstanding == 1, bool(j.fdatasync)) for j in settings.jobs}
        assert ("randread", 4096, True, False) in kinds
        assert ("randwrite", 4096, True, False) in kinds
        assert ("write", 4096, True, True) in kinds
        assert ("randread", 4096, False, False) in kinds
    full = {j.name: j for j in parse_job_set("assessment", PATH)}
    assert full["mix-randrw"].rwmixread == 70 and full["mix-randrw"].bs == 8192
    assert full["bw-write"].bs == 1024 * 1024
    assert all(j.ramp_s > 0 for j in full.values())
    assert parse_fio_section("assessment", PATH).repeats > 1
    assert max(j.runtime_s for j in parse_job_set("quick", PATH)) <= 5


def test_mapping_overrides_repeats_and_size() -> None:
    settings = parse_fio_section({"jobSet": "full", "repeats": 2, "sizeMiB": 64}, PATH)
    assert settings.repeats == 2 and settings.size_bytes == 64 * 1024 * 1024
    assert [j.name for j in settings.jobs] == [j.name for j in parse_job_set("full", PATH)]


def _sections(text: str) -> list[tuple[str, list[str]]]:
    parts = re.split(r"^\[(.+)\]$", text, flags=re.MULTILINE)
    return [(parts[i], parts[i + 1].split()) for i in range(1, len(parts), 2)]


@pytest.mark.parametrize("name", sorted(JOB_SETS))
def test_rendered_file_is_honest(name: str) -> None:
    text = render_job_file(parse_job_set(name, PATH), size_bytes=256 << 20, prefill=True)
    sections = _sections(text)
    assert "gtod_reduce" not in text
    glob = dict(line.split("=", 1) for line in sections[0][1])
    assert glob["direct"] == "1" and glob["lat_percentiles"] == "1"
    assert glob["filename"] == "@DEVICE@"
    assert "99.99" in glob["percentile_list"].split(":")
    assert sections[1][0] == "prefill" and "rw=write" in sections[1][1]
    assert f"size={256 << 20}" in sections[1][1]
    for _, lines in sections[1:]:
        assert "stonewall" in lines
        if any(line.startswith("direct=") and line != "direct=1" for line in lines):
            # buffered only where every write is made durable before it is timed done
            assert "rw=write" in lines and "fdatasync=1" in lines
            assert not any(line.startswith("rw=") and "read" in line for line in lines)


def test_without_prefill_no_prefill_section_and_sequential_streams_get_slices() -> None:
    jobs = parse_job_set([{"name": "s", "rw": "read", "bs": "1M", "numjobs": 4}], PATH)
    text = render_job_file(jobs, size_bytes=64 << 20, prefill=False)
    assert "[prefill]" not in text
    assert "offset_increment=16777216" in text and "size=16777216" in text


def test_job_larger_than_area_is_refused() -> None:
    jobs = parse_job_set([{"name": "s", "rw": "read", "bs": "1M", "size": "1G"}], PATH)
    with pytest.raises(JobSetError, match="does not fit"):
        render_job_file(jobs, size_bytes=64 << 20, prefill=True)
