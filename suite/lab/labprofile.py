"""A whole lab driver file: its drivers and its optional `cluster` section, read once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .clusterprofile import ClusterProfile, parse_cluster
from .drivers import DriverProfile, parse_drivers, read_profile_yaml


@dataclass(frozen=True)
class LabProfile:
    """What `pytest suite --lab-drivers FILE` and `python -m suite.lab serve` start."""

    drivers: list[DriverProfile]
    cluster: ClusterProfile = field(default_factory=ClusterProfile)


def load_lab_profile(path: Path | None) -> LabProfile:
    """The profile in a driver file, or the built-in one when `path` is None."""
    data = read_profile_yaml(path)
    drivers = parse_drivers(data, str(path or "<built-in>"))
    return LabProfile(drivers, parse_cluster(data.get("cluster")))
