"""Data stored before messages formed a tree: the upgrade makes each conversation one branch
and loses nothing, on SQLite (a file made by the previous release's schema) and MongoDB."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from botgpt.adapters.mongo_conversations import MongoConversationStore
from botgpt.adapters.mongo_schema import upgrade_to_trees
from botgpt.adapters.sqlite_db import MIGRATIONS
from botgpt.adapters.sqlite_store import open_sqlite_store
from botgpt.domain.ids import new_id
from botgpt.ports.stores import ConversationStore
from tests.contract.conftest import mongo_database

T0 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
PREVIOUS_RELEASE_VERSION = 3  # the schema the release before message trees created
CONVERSATIONS = {new_id(): ["hi", "hello!", "how are you", "fine"], new_id(): ["one", "two"], new_id(): []}


def old_rows() -> list[tuple[str, int, str]]:
    """(conversation, position, text), the conversations' messages interleaved in time."""
    rows = [(cid, n, text) for cid, texts in CONVERSATIONS.items() for n, text in enumerate(texts)]
    return sorted(rows, key=lambda row: (row[1], row[0]))


def make_previous_release_database(path: Path) -> dict[str, list[str]]:
    connection = sqlite3.connect(path)
    connection.executescript(
        "BEGIN; "
        + "; ".join(MIGRATIONS[:PREVIOUS_RELEASE_VERSION])
        + f"; PRAGMA user_version = {PREVIOUS_RELEASE_VERSION}; COMMIT;"
    )
    for cid, texts in CONVERSATIONS.items():
        connection.execute(
            "INSERT INTO conversations (id, user_id, title, mode, created_at, updated_at, message_count, total_tokens)"
            " VALUES (?, 'alice', 'old', 'open_chat', ?, ?, ?, ?)",
            (cid, T0.isoformat(), T0.isoformat(), len(texts), len(texts)),
        )
    ids: dict[str, list[str]] = {cid: [] for cid in CONVERSATIONS}
    for cid, position, text in old_rows():
        message_id = new_id()
        ids[cid].append(message_id)
        role = "user" if position % 2 == 0 else "assistant"
        at = (T0 + timedelta(seconds=position)).isoformat()
        connection.execute(
            "INSERT INTO messages (id, conversation_id, role, content, created_at, tokens) VALUES (?, ?, ?, ?, ?, 1)",
            (message_id, cid, role, text, at),
        )
    connection.commit()
    connection.close()
    return ids


async def assert_one_branch_each(store: ConversationStore, ids: dict[str, list[str]]) -> None:
    for cid, texts in CONVERSATIONS.items():
        conversation = await store.get_conversation("alice", cid)
        assert conversation is not None and conversation.message_count == len(texts)
        everything = await store.list_messages(cid)
        assert [m.content for m in everything] == texts
        assert conversation.active_leaf_id == (ids[cid][-1] if texts else None)
        if texts:
            branch = await store.branch(cid, ids[cid][-1])
            assert [m.content for m in branch] == texts
            assert [m.parent_id for m in branch] == [None, *ids[cid][:-1]]


async def test_sqlite_upgrade_from_the_previous_release(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    ids = make_previous_release_database(path)
    async with open_sqlite_store(path) as store:
        await assert_one_branch_each(store, ids)
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


@pytest.mark.parametrize("kind", ["mongomock", "mongo_real"])
async def test_mongo_upgrade_of_conversations_stored_before_trees(kind: str) -> None:
    async with mongo_database(kind) as database:
        ids: dict[str, list[str]] = {cid: [] for cid in CONVERSATIONS}
        for cid, texts in CONVERSATIONS.items():
            # the previous release's documents: no active_leaf_id, no parent_id
            await database["conversations"].insert_one(
                {"_id": cid, "user_id": "alice", "title": "old", "mode": "open_chat", "document_ids": [],
                 "created_at": T0, "updated_at": T0, "message_count": len(texts), "total_tokens": len(texts),
                 "next_seq": len(texts)}
            )  # fmt: skip
        for cid, position, text in old_rows():
            message_id = new_id()
            ids[cid].append(message_id)
            await database["messages"].insert_one(
                {"_id": message_id, "conversation_id": cid, "seq": position, "content": text, "tokens": 1,
                 "role": "user" if position % 2 == 0 else "assistant", "created_at": T0, "model": None,
                 "prompt_tokens": 0, "completion_tokens": 0}
            )  # fmt: skip
        assert await upgrade_to_trees(database) == len(CONVERSATIONS)
        assert await upgrade_to_trees(database) == 0  # idempotent
        await assert_one_branch_each(MongoConversationStore(database), ids)
