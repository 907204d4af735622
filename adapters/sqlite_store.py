"""SQLite conversation store: the default, in the one database file under the data directory."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from botgpt.adapters.sqlite_db import SqliteDatabase, open_sqlite_database, stamp
from botgpt.domain.errors import ConversationNotFound
from botgpt.domain.model import Citation, Conversation, ListPosition, Message, Mode, Role

_CONVERSATION_COLUMNS = (
    "id, user_id, title, mode, document_ids, created_at, updated_at, message_count, total_tokens,"
    " prompt_tokens, completion_tokens"
)
_MESSAGE_COLUMNS = (
    "id, conversation_id, role, content, created_at, tokens, model, prompt_tokens, completion_tokens, citations"
)


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
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
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
        citations=tuple(Citation(**item) for item in json.loads(row["citations"])),
    )


def _message_params(message: Message) -> tuple[Any, ...]:
    return (
        message.id,
        message.conversation_id,
        message.role.value,
        message.content,
        stamp(message.created_at),
        message.tokens,
        message.model,
        message.prompt_tokens,
        message.completion_tokens,
        json.dumps([attrs.asdict(c) for c in message.citations]),
    )


def _conversation_params(conversation: Conversation) -> tuple[Any, ...]:
    return (
        conversation.id,
        conversation.user_id,
        conversation.title,
        conversation.mode.value,
        json.dumps(list(conversation.document_ids)),
        stamp(conversation.created_at),
        stamp(conversation.updated_at),
        conversation.message_count,
        conversation.total_tokens,
        conversation.prompt_tokens,
        conversation.completion_tokens,
    )


class SqliteConversationStore:
    """Conversations and messages in SQLite."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._database = database
        self._db = database.connection

    async def add_conversation(self, conversation: Conversation, messages: Sequence[Message]) -> None:
        def work() -> None:
            self._db.execute(
                f"INSERT INTO conversations ({_CONVERSATION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                _conversation_params(conversation),
            )
            self._insert_messages(messages)

        await self._database.transaction(work)

    async def append_messages(self, conversation: Conversation, messages: Sequence[Message]) -> None:
        def work() -> None:
            # Counters are incremented, not overwritten, so concurrent turns add up.
            updated = self._db.execute(
                "UPDATE conversations SET updated_at = ?, message_count = message_count + ?,"
                " total_tokens = total_tokens + ?, prompt_tokens = prompt_tokens + ?,"
                " completion_tokens = completion_tokens + ? WHERE id = ?",
                (
                    stamp(conversation.updated_at),
                    len(messages),
                    sum(m.tokens for m in messages),
                    sum(m.prompt_tokens for m in messages),
                    sum(m.completion_tokens for m in messages),
                    conversation.id,
                ),
            )
            if updated.rowcount == 0:
                raise ConversationNotFound("conversation not found")
            self._insert_messages(messages)

        await self._database.transaction(work)

    def _insert_messages(self, messages: Sequence[Message]) -> None:
        self._db.executemany(
            f"INSERT INTO messages ({_MESSAGE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [_message_params(message) for message in messages],
        )

    async def get_conversation(self, user_id: str | None, conversation_id: str) -> Conversation | None:
        def work() -> Conversation | None:
            row = self._db.execute(
                f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            if row is None or (user_id is not None and row["user_id"] != user_id):
                return None
            return _conversation(row)

        return await self._database.run(work)

    async def rename_conversation(self, conversation_id: str, title: str) -> bool:
        def work() -> bool:
            cursor = self._db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))
            return cursor.rowcount > 0

        return await self._database.run(work)

    async def delete_conversation(self, conversation_id: str) -> bool:
        def work() -> bool:
            self._db.execute("DELETE FROM messages WHERE conversation_id = ?", (conversation_id,))
            cursor = self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            return cursor.rowcount > 0

        return await self._database.transaction(work)

    async def list_conversations(
        self, user_id: str, limit: int, offset: int = 0, after: ListPosition | None = None
    ) -> list[Conversation]:
        sql = f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE user_id = ?"
        params: list[Any] = [user_id]
        if after is not None:
            sql += " AND (updated_at, id) < (?, ?)"
            params += [stamp(after.updated_at), after.id]
        sql += " ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?"
        params += [limit, offset]
        rows = await self._database.run(lambda: self._db.execute(sql, params).fetchall())
        return [_conversation(row) for row in rows]

    async def count_conversations(self, user_id: str) -> int:
        sql = "SELECT COUNT(*) FROM conversations WHERE user_id = ?"
        row = await self._database.run(lambda: self._db.execute(sql, (user_id,)).fetchone())
        return int(row[0])

    async def list_messages(self, conversation_id: str) -> list[Message]:
        sql = f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY seq"
        rows = await self._database.run(lambda: self._db.execute(sql, (conversation_id,)).fetchall())
        return [_message(row) for row in rows]

    async def recent_messages(self, conversation_id: str, limit: int) -> list[Message]:
        sql = f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?"
        rows = await self._database.run(lambda: self._db.execute(sql, (conversation_id, limit)).fetchall())
        return [_message(row) for row in reversed(rows)]

    async def ping(self) -> None:
        await self._database.run(lambda: self._db.execute("SELECT 1").fetchone())


@asynccontextmanager
async def open_sqlite_store(path: Path) -> AsyncIterator[SqliteConversationStore]:
    """A conversation store on its own database at ``path`` (tests and tools)."""
    async with open_sqlite_database(path) as database:
        yield SqliteConversationStore(database)
