"""One SQLite database file shared by botgpt's SQLite stores."""

from __future__ import annotations

import asyncio
import fcntl
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from botgpt.adapters.records import Codec, Dialect

T = TypeVar("T")

# Each entry upgrades the schema by one version; PRAGMA user_version records how far we got.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        title TEXT NOT NULL,
        mode TEXT NOT NULL,
        document_ids TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        message_count INTEGER NOT NULL DEFAULT 0,
        total_tokens INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX conversations_by_user ON conversations (user_id, updated_at DESC, id DESC);
    CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        content TEXT NOT NULL,
        created_at TEXT NOT NULL,
        tokens INTEGER NOT NULL,
        model TEXT,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX messages_by_conversation ON messages (conversation_id, seq);
    """,
    """
    ALTER TABLE messages ADD COLUMN citations TEXT NOT NULL DEFAULT '[]';
    CREATE TABLE documents (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        filename TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        chunks_total INTEGER NOT NULL DEFAULT 0,
        chunks_embedded INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        embedder TEXT
    );
    CREATE INDEX documents_by_user ON documents (user_id, created_at DESC, id DESC);
    CREATE UNIQUE INDEX documents_by_hash ON documents (user_id, sha256);
    CREATE TABLE chunks (
        document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        id TEXT NOT NULL,
        start_offset INTEGER NOT NULL,
        end_offset INTEGER NOT NULL,
        text TEXT NOT NULL,
        embedder TEXT NOT NULL,
        dimension INTEGER NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (document_id, ordinal)
    ) WITHOUT ROWID;
    CREATE TABLE ingestion_jobs (
        document_id TEXT PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
        worker TEXT,
        lease_until TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE INDEX jobs_by_lease ON ingestion_jobs (lease_until);
    """,
    """
    ALTER TABLE conversations ADD COLUMN prompt_tokens INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversations ADD COLUMN completion_tokens INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        prefix TEXT NOT NULL UNIQUE,
        secret_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT,
        requests_per_minute INTEGER,
        tokens_per_day INTEGER
    );
    CREATE TABLE usage_daily (
        user_id TEXT NOT NULL,
        key_id TEXT NOT NULL,
        day TEXT NOT NULL,
        requests INTEGER NOT NULL DEFAULT 0,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, key_id, day)
    ) WITHOUT ROWID;
    CREATE INDEX usage_by_key ON usage_daily (key_id, day);
    CREATE TABLE request_counts (
        key_id TEXT NOT NULL,
        minute TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (key_id, minute)
    ) WITHOUT ROWID;
    """,
    # Messages form a tree. Every existing conversation becomes one branch: each message's
    # parent is the one stored before it, and the last one is the active leaf.
    """
    ALTER TABLE messages ADD COLUMN parent_id TEXT;
    ALTER TABLE conversations ADD COLUMN active_leaf_id TEXT;
    ALTER TABLE conversations ADD COLUMN summary TEXT;
    UPDATE messages SET parent_id = (
        SELECT before.id FROM messages AS before
        WHERE before.conversation_id = messages.conversation_id AND before.seq < messages.seq
        ORDER BY before.seq DESC LIMIT 1
    );
    UPDATE conversations SET active_leaf_id = (
        SELECT last.id FROM messages AS last WHERE last.conversation_id = conversations.id
        ORDER BY last.seq DESC LIMIT 1
    );
    CREATE INDEX messages_by_parent ON messages (conversation_id, parent_id, seq);
    """,
    # Knowledge bases: collections of documents, attributes, and conversations scoped by both.
    """
    ALTER TABLE documents ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE conversations ADD COLUMN collection_ids TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE conversations ADD COLUMN filters TEXT;
    CREATE INDEX documents_by_status ON documents (user_id, status);
    CREATE TABLE collections (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX collections_by_user ON collections (user_id, created_at DESC, id DESC);
    CREATE TABLE collection_documents (
        collection_id TEXT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
        document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
        PRIMARY KEY (collection_id, document_id)
    );
    CREATE INDEX collection_documents_by_document ON collection_documents (document_id);
    """,
    # Whether an answer was cut at the token cap; every earlier answer ended by itself.
    """
    ALTER TABLE messages ADD COLUMN finish_reason TEXT NOT NULL DEFAULT 'stop';
    """,
)


def stamp(moment: datetime) -> str:
    """Fixed-width UTC text: sorts in time order, which the indexes rely on."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def insert_statement(table: str, columns: Sequence[str]) -> str:
    """``INSERT INTO table (columns) VALUES (?, …)``, one placeholder a column."""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


# Timestamps as fixed-width UTC text, lists and nested objects as JSON text.
SQLITE = Dialect("id", Codec(stamp, datetime.fromisoformat), Codec(json.dumps, json.loads))


def connect(path: Path) -> sqlite3.Connection:
    """Open the database file and bring its schema up to date."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA busy_timeout = 5000")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA foreign_keys = ON")
    # Switching a fresh file to WAL needs it exclusively: under the same lock as migrating.
    with _exclusive(path.with_name(path.name + ".lock")):
        connection.execute("PRAGMA journal_mode = WAL")
        migrate(connection)
    return connection


def migrate(connection: sqlite3.Connection) -> None:
    """Apply the migrations this file has not seen yet, each in its own transaction."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        connection.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Several processes may open a fresh file at once (``serve --workers N``): a lock
    beside it makes one of them set it up while the others wait, then find it current."""
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class SqliteDatabase:
    """A connection used from one dedicated thread.

    sqlite3 blocks, so every call runs on that thread: the event loop stays free and the
    connection is never used from two threads at once.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="botgpt-sqlite")

    async def run(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the database thread."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, work)

    async def transaction(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the database thread inside one transaction."""
        return await self.run(lambda: self._in_transaction(work))

    def _in_transaction(self, work: Callable[[], T]) -> T:
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            result = work()
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")
        return result

    async def close(self) -> None:
        await self.run(self.connection.close)
        self._thread.shutdown(wait=True)


@asynccontextmanager
async def open_sqlite_database(path: Path) -> AsyncIterator[SqliteDatabase]:
    """Open (creating or upgrading) the database at ``path`` and close it afterwards."""
    database = SqliteDatabase(await asyncio.to_thread(connect, path))
    try:
        yield database
    finally:
        await database.close()
