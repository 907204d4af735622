"""SQLite conversation store: the default, in the one database file under the data directory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from botgpt.adapters.records import RecordMap
from botgpt.adapters.sqlite_db import SQLITE, SqliteDatabase, insert_statement, open_sqlite_database, stamp
from botgpt.domain.errors import ConversationNotFound, TurnConflict
from botgpt.domain.model import Conversation, ListPosition, Message, Summary

CONVERSATIONS = RecordMap(Conversation, SQLITE)
MESSAGES = RecordMap(Message, SQLITE)
_CONVERSATION_COLUMNS = CONVERSATIONS.column_list
_MESSAGE_COLUMNS = MESSAGES.column_list


_INSERT_CONVERSATION = insert_statement("conversations", CONVERSATIONS.keys)
_INSERT_MESSAGE = insert_statement("messages", MESSAGES.keys)
# The ancestors of one message; parents are stored before their children, so seq orders the path.
_BRANCH_SQL = f"""
    WITH RECURSIVE path(id) AS (
        SELECT id FROM messages WHERE conversation_id = ? AND id = ?
        UNION ALL
        SELECT messages.parent_id FROM messages JOIN path ON messages.id = path.id
        WHERE messages.parent_id IS NOT NULL
    )
    SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id IN (SELECT id FROM path) ORDER BY seq
"""


class SqliteConversationStore:
    """Conversations and messages in SQLite."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._database = database
        self._db = database.connection

    async def add_conversation(self, conversation: Conversation, messages: Sequence[Message]) -> None:
        def work() -> None:
            self._db.execute(
                _INSERT_CONVERSATION,
                CONVERSATIONS.values(conversation),
            )
            self._insert_messages(messages)

        await self._database.transaction(work)

    async def append_messages(
        self, conversation: Conversation, messages: Sequence[Message], *, expected_leaf_id: str | None
    ) -> None:
        def work() -> None:
            # Compare-and-set on the active leaf: a concurrent turn in another worker must not
            # fork the branch silently. Counters are incremented all the same.
            updated = self._db.execute(
                "UPDATE conversations SET updated_at = ?, message_count = message_count + ?,"
                " total_tokens = total_tokens + ?, prompt_tokens = prompt_tokens + ?,"
                " completion_tokens = completion_tokens + ?, active_leaf_id = ?"
                " WHERE id = ? AND active_leaf_id IS ?",
                (
                    stamp(conversation.updated_at),
                    len(messages),
                    sum(m.tokens for m in messages),
                    sum(m.prompt_tokens for m in messages),
                    sum(m.completion_tokens for m in messages),
                    conversation.active_leaf_id,
                    conversation.id,
                    expected_leaf_id,
                ),
            )
            if updated.rowcount == 0:
                raise self._why_not_appended(conversation.id)
            self._insert_messages(messages)

        await self._database.transaction(work)

    def _why_not_appended(self, conversation_id: str) -> Exception:
        exists = self._db.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        if exists is None:
            return ConversationNotFound("conversation not found")
        return TurnConflict("another turn in this conversation was stored first; fetch it and send again")

    def _insert_messages(self, messages: Sequence[Message]) -> None:
        self._db.executemany(
            _INSERT_MESSAGE,
            [MESSAGES.values(message) for message in messages],
        )

    async def get_conversation(self, user_id: str | None, conversation_id: str) -> Conversation | None:
        def work() -> Conversation | None:
            row = self._db.execute(
                f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            if row is None or (user_id is not None and row["user_id"] != user_id):
                return None
            return CONVERSATIONS.load(row)

        return await self._database.run(work)

    async def rename_conversation(self, conversation_id: str, title: str) -> bool:
        return await self._update("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))

    async def set_active_leaf(self, conversation_id: str, leaf_id: str) -> bool:
        sql = "UPDATE conversations SET active_leaf_id = ? WHERE id = ?"
        return await self._update(sql, (leaf_id, conversation_id))

    async def save_summary(
        self, conversation_id: str, summary: Summary, prompt_tokens: int, completion_tokens: int
    ) -> bool:
        sql = (
            "UPDATE conversations SET summary = ?, prompt_tokens = prompt_tokens + ?,"
            " completion_tokens = completion_tokens + ? WHERE id = ?"
        )
        return await self._update(
            sql, (CONVERSATIONS.encode("summary", summary), prompt_tokens, completion_tokens, conversation_id)
        )

    async def _update(self, sql: str, params: tuple[Any, ...]) -> bool:
        return await self._database.run(lambda: self._db.execute(sql, params).rowcount > 0)

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
        return [CONVERSATIONS.load(row) for row in rows]

    async def count_conversations(self, user_id: str) -> int:
        sql = "SELECT COUNT(*) FROM conversations WHERE user_id = ?"
        row = await self._database.run(lambda: self._db.execute(sql, (user_id,)).fetchone())
        return int(row[0])

    async def list_messages(self, conversation_id: str) -> list[Message]:
        sql = f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY seq"
        return await self._messages(sql, (conversation_id,))

    async def branch(self, conversation_id: str, leaf_id: str) -> list[Message]:
        return await self._messages(_BRANCH_SQL, (conversation_id, leaf_id))

    async def get_message(self, conversation_id: str, message_id: str) -> Message | None:
        sql = f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND id = ?"
        found = await self._messages(sql, (conversation_id, message_id))
        return found[0] if found else None

    async def children(self, conversation_id: str, parent_id: str | None) -> list[Message]:
        sql = f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND parent_id IS ? ORDER BY seq"
        return await self._messages(sql, (conversation_id, parent_id))

    async def _messages(self, sql: str, params: tuple[Any, ...]) -> list[Message]:
        rows = await self._database.run(lambda: self._db.execute(sql, params).fetchall())
        return [MESSAGES.load(row) for row in rows]

    async def ping(self) -> None:
        await self._database.run(lambda: self._db.execute("SELECT 1").fetchone())


@asynccontextmanager
async def open_sqlite_store(path: Path) -> AsyncIterator[SqliteConversationStore]:
    """A conversation store on its own database at ``path`` (tests and tools)."""
    async with open_sqlite_database(path) as database:
        yield SqliteConversationStore(database)
