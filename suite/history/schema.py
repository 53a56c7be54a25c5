"""The history file's schema, versioned: one migration function per version.

``schema_version`` holds the version a file is at; opening a file applies every later
migration in order inside one transaction, so an old history is upgraded in place and a
file from a newer suite is refused with a clear message instead of being damaged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from suite.config.errors import ConfigError


def _script(db: sqlite3.Connection, script: str) -> None:
    # executescript() would commit first; statements one by one stay in the transaction.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _v1(db: sqlite3.Connection) -> None:
    _script(db, """
        CREATE TABLE runs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT UNIQUE NOT NULL, started TEXT, finished TEXT, profile TEXT,
            suite_version TEXT, complete INTEGER NOT NULL, cluster_json TEXT NOT NULL);
        CREATE TABLE classes (
            run_id TEXT NOT NULL REFERENCES runs(id), name TEXT NOT NULL,
            provisioner TEXT, params_hash TEXT, PRIMARY KEY (run_id, name));
        CREATE TABLE cells (
            run_id TEXT NOT NULL REFERENCES runs(id), class TEXT NOT NULL,
            capability TEXT NOT NULL, verdict TEXT NOT NULL, reason TEXT,
            PRIMARY KEY (run_id, class, capability));
        CREATE TABLE samples (
            run_id TEXT NOT NULL REFERENCES runs(id), class TEXT NOT NULL, job TEXT NOT NULL,
            mode TEXT NOT NULL, repeat INTEGER NOT NULL, metric TEXT NOT NULL,
            value REAL NOT NULL);
    """)


def _v2(db: sqlite3.Connection) -> None:
    # Trend and change-point queries read one (class, job, mode, metric) over all runs.
    _script(db, """
        CREATE INDEX samples_series ON samples (class, job, mode, metric);
        CREATE INDEX samples_run ON samples (run_id);
    """)


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _v1, 2: _v2}
LATEST = max(MIGRATIONS)


def current_version(db: sqlite3.Connection) -> int:
    has = db.execute("SELECT name FROM sqlite_master WHERE type='table' "
                     "AND name='schema_version'").fetchone()
    if not has:
        return 0
    row = db.execute("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(db: sqlite3.Connection, target: int = LATEST, where: str = "") -> int:
    """Bring the file to ``target``; returns the version it was at."""
    found = current_version(db)
    if found > LATEST:
        raise ConfigError(f"history {where} has schema version {found}, newer than this "
                          f"suite knows ({LATEST}); upgrade the suite")
    if found >= target:
        return found
    with db:
        if found == 0:
            db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            db.execute("INSERT INTO schema_version VALUES (0)")
        for version in range(found + 1, target + 1):
            MIGRATIONS[version](db)
            db.execute("UPDATE schema_version SET version = ?", (version,))
    return found
