"""Pure logic of the printer columns: JSONPath subset and kubectl-style ages."""

from __future__ import annotations

from datetime import UTC, datetime

from suite.lab.api.printing import human_age, json_path

NOW = datetime(2026, 1, 10, 12, 0, 0, tzinfo=UTC)


def test_json_path_fields_indexes_and_filters() -> None:
    obj = {"status": {"conditions": [{"type": "A", "status": "False"},
                                     {"type": "Ready", "status": "True"}],
                      "interfaces": [{"ipAddress": "10.0.0.1"}]}}
    assert json_path(obj, ".status.conditions[?(@.type=='Ready')].status") == "True"
    assert json_path(obj, ".status.interfaces[0].ipAddress") == "10.0.0.1"
    assert json_path(obj, ".status.interfaces[3].ipAddress") is None
    assert json_path(obj, ".spec.missing") is None


def test_human_age_like_kubectl() -> None:
    cases = {"2026-01-10T11:59:15Z": "45s", "2026-01-10T11:54:57Z": "5m3s",
             "2026-01-10T11:48:00Z": "12m", "2026-01-10T08:56:00Z": "3h4m",
             "2026-01-10T03:00:00Z": "9h", "2026-01-08T09:00:00Z": "2d3h",
             "2025-12-21T12:00:00Z": "20d"}
    for stamp, expected in cases.items():
        assert human_age(stamp, NOW) == expected
