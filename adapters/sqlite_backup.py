"""A consistent copy of a live SQLite database, and what it holds, for ``botgpt backup``.

SQLite's online backup API copies the database page by page while other connections keep
writing: a write during the copy restarts it, so the copy is one committed state (with WAL,
readers and the copy never block writers for long).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# What a backup counts (and a restore checks); each table is one kind of user data.
COUNTED_TABLES = (
    "conversations",
    "messages",
    "documents",
    "chunks",
    "api_keys",
    "collections",
    "collection_documents",
    "ingestion_jobs",
)
PAGES_PER_STEP = 1024


def snapshot_database(source: Path, target: Path) -> None:
    """Copy the database at ``source`` to a new file ``target``, consistently, while it is in use."""
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        writer = sqlite3.connect(target)
        try:
            reader.backup(writer, pages=PAGES_PER_STEP)
            # One self-contained file: no -wal or -shm beside it.
            writer.execute("PRAGMA journal_mode = DELETE")
        finally:
            writer.close()
    finally:
        reader.close()


def table_counts(path: Path) -> dict[str, int]:
    """Rows per counted table."""
    with _reading(path) as connection:
        return {
            table: int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]) for table in COUNTED_TABLES
        }


def document_ids(path: Path, status: str | None = None) -> list[str]:
    """Every document's id (also its blob's key), or those with ``status``, in id order."""
    sql, parameters = "SELECT id FROM documents", tuple[str, ...]()
    if status is not None:
        sql, parameters = sql + " WHERE status = ?", (status,)
    with _reading(path) as connection:
        return [row[0] for row in connection.execute(sql + " ORDER BY id", parameters)]


def release_leases(path: Path) -> None:
    """Free every ingestion job's lease, so that the next worker claims it at once."""
    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.execute("UPDATE ingestion_jobs SET worker = NULL, lease_until = NULL")
    finally:
        connection.close()


def integrity_problem(path: Path) -> str | None:
    """What SQLite's integrity check finds wrong with the file, or None."""
    try:
        with _reading(path) as connection:
            verdict = str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    except sqlite3.DatabaseError as error:
        return str(error)
    return None if verdict == "ok" else verdict


class _reading:
    """A read-only connection, closed on exit (sqlite3's own context manager only commits)."""

    def __init__(self, path: Path) -> None:
        self._connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def __enter__(self) -> sqlite3.Connection:
        return self._connection

    def __exit__(self, *exc_info: object) -> None:
        self._connection.close()
