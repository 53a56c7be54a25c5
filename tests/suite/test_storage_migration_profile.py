"""The profile key `storage_migration.from` (the class migration.storage moves from)."""

from __future__ import annotations

import pytest

from suite.config.errors import ConfigError
from suite.config.profile import load_profile, parse_profile


def test_from_names_the_source_class() -> None:
    profile = parse_profile({"name": "x", "storage_migration": {"from": "lab-nfs"}}, "t")
    assert profile.storage_migration.from_class == "lab-nfs"


def test_default_is_the_clusters_default_virt_class() -> None:
    assert parse_profile({"name": "x"}, "t").storage_migration.from_class == ""


def test_a_misspelt_key_names_its_path() -> None:
    with pytest.raises(ConfigError, match=r"storage_migration\.form: unknown field"):
        parse_profile({"name": "x", "storage_migration": {"form": "lab-nfs"}}, "t")


@pytest.mark.parametrize("name", ["full", "assessment"])
def test_full_and_assessment_move_storage(name: str) -> None:
    assert "storage_migration" in load_profile(name).families
