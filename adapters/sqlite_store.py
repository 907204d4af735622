"""SQLite conversation store: the default, one file under the data directory."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from botgpt.domain.errors import ConversationNotFound
from botgpt.domain.model import Conversation, ListPosition, Message, Mode, Role

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
)

_CONVERSATION_COLUMNS = (
    "id, user_id, title, mode, document_ids, created_at, updated_at, message_count, total_tokens"
)
_MESSAGE_COLUMNS = (
    "id, conversation_id, role, content, created_at, tokens, model, prompt_tokens, completion_tokens"
)


def _stamp(moment: datetime) -> str:
    # Fixed-width UTC text sorts in time order, which the indexes rely on.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _conversation(row: sqlite3.Row) -> Conversation:
    return Conversation(
        id=row["id"],
        user_id=row["user_id"],
        title=row["title"],
        mode=Mode(row["mode"]),
        document_ids=tuple(json.loads(row["document_ids"])),
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
        message_count=row["message_count"],
        total_tokens=row["total_tokens"],
    )


def _message(row: sqlite3.Row) -> Message:
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        role=Role(row["role"]),
        content=row["content"],
        created_at=datetime.fromisoformat(row["created_at"]),
        tokens=row["tokens"],
        model=row["model"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
    )


def _message_params(message: Message) -> tuple[Any, ...]:
    return (
        message.id,
        message.conversation_id,
        message.role.value,
        message.content,
        _stamp(message.created_at),
        message.tokens,
        message.model,
        message.prompt_tokens,
        message.completion_tokens,
    )


def _conversation_params(conversation: Conversation) -> tuple[Any, ...]:
    return (
        conversation.id,
        conversation.user_id,
        conversation.title,
        conversation.mode.value,
        json.dumps(list(conversation.document_ids)),
        _stamp(conversation.created_at),
        _stamp(conversation.updated_at),
        conversation.message_count,
        conversation.total_tokens,
    )


def connect(path: Path) -> sqlite3.Connection:
    """Open the database file and bring its schema up to date."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA busy_timeout = 5000")
    migrate(connection)
    return connection


def migrate(connection: sqlite3.Connection) -> None:
    """Apply the migrations this file has not seen yet, each in its own transaction."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        connection.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")


class SqliteConversationStore:
    """Conversation store on one SQLite file.

    sqlite3 blocks, so every call runs on one dedicated thread: the event loop stays free
    and the connection is never used from two threads at once.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="botgpt-sqlite")

    async def _run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, work)

    def _in_transaction(self, work: Callable[[], T]) -> T:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            result = work()
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return result

    async def add_conversation(self, conversation: Conversation, messages: Sequence[Message]) -> None:
        def work() -> None:
            self._db.execute(
                f"INSERT INTO conversations ({_CONVERSATION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",
                _conversation_params(conversation),
            )
            self._insert_messages(messages)

        await self._run(lambda: self._in_transaction(work))

    async def append_messages(self, conversation: Conversation, messages: Sequence[Message]) -> None:
        def work() -> None:
            # Counters are incremented, not overwritten, so concurrent turns add up.
            updated = self._db.execute(
                "UPDATE conversations SET updated_at = ?, message_count = message_count + ?,"
                " total_tokens = total_tokens + ? WHERE id = ?",
                (
                    _stamp(conversation.updated_at),
                    len(messages),
                    sum(m.tokens for m in messages),
                    conversation.id,
                ),
            )
            if updated.rowcount == 0:
                raise ConversationNotFound("conversation not found")
            self._insert_messages(messages)

        await self._run(lambda: self._in_transaction(work))

    def _insert_messages(self, messages: Sequence[Message]) -> None:
        self._db.executemany(
            f"INSERT INTO messages ({_MESSAGE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",
            [_message_params(message) for message in messages],
        )

    async def get_conversation(self, user_id: str | None, conversation_id: str) -> Conversation | None:
        def work() -> Conversation | None:
            row = self._db.execute(
                f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE id = ?",
                (conversation_id,),
            ).fetchone()
            if row is None or (user_id is not None and row["user_id"] != user_id):
                return None
            return _conversation(row)

        return await self._run(work)

    async def rename_conversation(self, conversation_id: str, title: str) -> bool:
        def work() -> bool:
            cursor = self._db.execute(
                "UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id)
            )
            return cursor.rowcount > 0

        return await self._run(work)

    async def delete_conversation(self, conversation_id: str) -> bool:
        def work() -> bool:
            self._db.execute("DELETE FROM messages WHERE conversation_id = ?", (conversation_id,))
            cursor = self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            return cursor.rowcount > 0

        return await self._run(lambda: self._in_transaction(work))

    async def list_conversations(
        self, user_id: str, limit: int, offset: int = 0, after: ListPosition | None = None
    ) -> list[Conversation]:
        sql = f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE user_id = ?"
        params: list[Any] = [user_id]
        if after is not None:
            sql += " AND (updated_at, id) < (?, ?)"
            params += [_stamp(after.updated_at), after.id]
        sql += " ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?"
        params += [limit, offset]
        rows = await self._run(lambda: self._db.execute(sql, params).fetchall())
        return [_conversation(row) for row in rows]

    async def count_conversations(self, user_id: str) -> int:
        row = await self._run(
            lambda: self._db.execute(
                "SELECT COUNT(*) FROM conversations WHERE user_id = ?", (user_id,)
            ).fetchone()
        )
        return int(row[0])

    async def list_messages(self, conversation_id: str) -> list[Message]:
        rows = await self._run(
            lambda: self._db.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY seq",
                (conversation_id,),
            ).fetchall()
        )
        return [_message(row) for row in rows]

    async def recent_messages(self, conversation_id: str, limit: int) -> list[Message]:
        rows = await self._run(
            lambda: self._db.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?"
                " ORDER BY seq DESC LIMIT ?",
                (conversation_id, limit),
            ).fetchall()
        )
        return [_message(row) for row in reversed(rows)]

    async def ping(self) -> None:
        await self._run(lambda: self._db.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        await self._run(self._db.close)
        self._thread.shutdown(wait=True)


@asynccontextmanager
async def open_sqlite_store(path: Path) -> AsyncIterator[SqliteConversationStore]:
    """Open (creating or upgrading) the database at ``path`` and close it afterwards."""
    connection = await asyncio.to_thread(connect, path)
    store = SqliteConversationStore(connection)
    try:
        yield store
    finally:
        await store.close()
