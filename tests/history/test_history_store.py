"""The history file: versioned schema with migrations, append and read back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from suite.config.errors import ConfigError
from suite.history import schema
from suite.history.store import HistoryStore
from tests.history.synth import record


def test_round_trip_keeps_cells_samples_and_fingerprints(tmp_path: Path) -> None:
    rec = record("run-1", {("a", "j", "readIops"): [1.0, 2.0, 3.0]},
                 cells={("a", "snapshot.volume"): "supported"}, complete=False)
    with HistoryStore(tmp_path / "h.sqlite") as store:
        store.append(rec)
        back = store.load("run-1")
        assert [r.id for r in store.runs()] == ["run-1"] and not store.runs()[0].complete
    assert back.cells == rec.cells and back.classes == rec.classes
    assert back.cluster == rec.cluster and back.values("a", "j", "Block", "readIops") == [
        1.0, 2.0, 3.0]


def test_latest_skips_incomplete_runs_and_the_current_one(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        for n, complete in ((1, True), (2, True), (3, False), (4, True)):
            store.append(record(f"run-{n}", {}, complete=complete))
        assert store.latest_id(exclude="run-4") == "run-2"
        assert store.latest_id() == "run-4"
        with pytest.raises(ConfigError, match="run 'nope' is not in history"):
            store.load("nope")


def test_a_version_one_file_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    schema.migrate(db, target=1)
    db.execute("INSERT INTO runs (id, complete, cluster_json) VALUES ('old', 1, '{}')")
    db.commit()
    db.close()
    with HistoryStore(path) as store:
        assert schema.current_version(store.db) == schema.LATEST == 2
        assert [r.id for r in store.runs()] == ["old"]
        indexes = {r[0] for r in store.db.execute(
            "SELECT name FROM sqlite_master WHERE type='index'")}
        assert "samples_series" in indexes


def test_a_newer_or_foreign_file_is_refused_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER)")
    db.execute("INSERT INTO schema_version VALUES (99)")
    db.commit()
    db.close()
    with pytest.raises(ConfigError, match="schema version 99, newer"):
        HistoryStore(path)
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database at all" * 100)
    with pytest.raises(ConfigError, match="not a usable SQLite file"):
        HistoryStore(junk)
