"""Profiles load strictly: every shipped profile is valid, every mistake names its field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from suite.config.errors import ConfigError
from suite.config.profile import RUN_PROFILES, load_profile, parse_profile


@pytest.mark.parametrize("name", ["quick", "full", "assessment", "nightly"])
def test_shipped_profiles_load(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.fio.jobs, "every shipped profile measures something"
    assert profile.sizes.expanded_disk_bytes > profile.sizes.disk_bytes
    assert profile.node_checks.privileged_pods is False  # opt-in on real clusters


def test_assessment_uses_ramp_and_repeats() -> None:
    profile = load_profile("assessment")
    assert profile.fio.repeats >= 3
    assert all(job.ramp_s > 0 for job in profile.fio.jobs)


def test_quick_is_short_but_measures_latency() -> None:
    jobs = load_profile("quick").fio.jobs
    assert any(job.iodepth == 1 and job.rw == "randread" for job in jobs)
    assert sum(job.runtime_s + job.ramp_s for job in jobs) <= 60


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "x", "timeouts": {"boot": 3}}, "timeouts.boot: unknown field"),
    ({"name": "x", "timeouts": {"boot_s": "soon"}}, "timeouts.boot_s: expected a non-negative"),
    ({"name": "x", "sizes": {"disk": "1Qi"}}, "sizes.disk: expected a size"),
    ({"name": "x", "sizes": {"disk": 0}}, "sizes.disk: expected a positive size"),
    ({"name": "x", "families": ["provision", "teleport"]}, "families[1]: unknown family"),
    ({"name": "x", "guest": {"cpu_cores": "two"}}, "guest.cpu_cores: expected"),
    ({"name": "x", "node_checks": {"privileged_pods": "yes"}},
     "node_checks.privileged_pods: expected true or false"),
    ({"nmae": "x"}, "nmae: unknown field"),
    ({"description": "no name"}, "name: required field is missing"),
    ({"name": "x", "fio": {"jobs": [{"name": "a", "rw": "read", "bs": "4k", "iodpeth": 2}]}},
     "fio.jobs[0].iodpeth: unknown key"),
    ([1, 2], "expected a mapping"),
])
def test_profile_errors_name_the_field(data: object, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_profile(data, "profiles/bad.yaml")
    text = str(caught.value)
    assert message in text
    assert "profiles/bad.yaml" in text
    assert "\n" not in text


def test_defaults_fill_omitted_sections() -> None:
    profile = parse_profile({"name": "tiny", "sizes": {"disk": "64Mi"}}, "t.yaml")
    assert profile.sizes.disk_bytes == 64 * 2**20
    assert profile.timeouts.boot_s == 600.0
    assert profile.guest.image.startswith("quay.io/containerdisks/")
    assert profile.source == "t.yaml"


def test_unknown_profile_name_lists_known() -> None:
    with pytest.raises(ConfigError, match=r"known profiles: .*quick"):
        load_profile("qiuck")


def test_profile_by_path_and_bad_yaml(tmp_path: Path) -> None:
    good = tmp_path / "mine.yaml"
    good.write_text(yaml.safe_dump({"name": "mine", "families": ["provision"]}))
    assert load_profile(str(good)).families == ("provision",)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_profile(str(bad))
    with pytest.raises(ConfigError, match="not found"):
        load_profile(str(tmp_path / "missing.yaml"))


def test_built_in_profiles_are_package_resources() -> None:
    """They ship inside the package (an installed wheel has them), not beside it."""
    import suite

    assert RUN_PROFILES.joinpath("quick.yaml").is_file()
    assert Path(str(RUN_PROFILES)).parent == Path(suite.__file__).parent
    assert load_profile("quick").source.endswith("quick.yaml")
