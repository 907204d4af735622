"""The contract every ConversationStore adapter must meet."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from botgpt.adapters.memory_store import MemoryConversationStore
from botgpt.adapters.mongo_conversations import MongoConversationStore
from botgpt.adapters.sqlite_db import MIGRATIONS
from botgpt.adapters.sqlite_store import SqliteConversationStore, open_sqlite_store
from botgpt.domain.errors import ConversationNotFound, TurnConflict
from botgpt.domain.ids import new_id
from botgpt.domain.model import Conversation, ListPosition, Message, Mode, Role, Summary
from botgpt.ports.stores import ConversationStore
from tests.contract.conftest import BACKENDS, backend

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ConversationStore]:
    kinds = (MemoryConversationStore, SqliteConversationStore, MongoConversationStore)
    async with backend(request.param, tmp_path, *kinds) as adapter:
        yield adapter


def conversation(user: str = "alice", minute: int = 0, **changes: object) -> Conversation:
    at = T0 + timedelta(minutes=minute)
    fields: dict[str, object] = dict(
        id=new_id(),
        user_id=user,
        title=f"t{minute}",
        mode=Mode.OPEN_CHAT,
        created_at=at,
        updated_at=at,
    )
    fields.update(changes)
    return Conversation(**fields)  # type: ignore[arg-type]


def message(conversation_id: str, text: str, role: Role = Role.USER, second: int = 0) -> Message:
    return Message(
        id=new_id(),
        conversation_id=conversation_id,
        role=role,
        content=text,
        created_at=T0 + timedelta(seconds=second),
        tokens=len(text.split()),
        model="m" if role is Role.ASSISTANT else None,
        prompt_tokens=3,
        completion_tokens=2,
    )


async def test_round_trips_a_conversation_and_its_messages(store: ConversationStore) -> None:
    c = conversation(document_ids=("a" * 32,), message_count=2, total_tokens=5)
    messages = [message(c.id, "hello there"), message(c.id, "hi back you", Role.ASSISTANT)]
    await store.add_conversation(c, messages)

    assert await store.get_conversation("alice", c.id) == c
    assert await store.list_messages(c.id) == messages


async def test_reads_are_scoped_to_the_owner(store: ConversationStore) -> None:
    c = conversation("alice")
    await store.add_conversation(c, [])
    assert await store.get_conversation("bob", c.id) is None
    assert await store.get_conversation(None, c.id) == c
    assert await store.list_conversations("bob", 10) == []
    assert await store.count_conversations("bob") == 0


async def test_lists_newest_first_with_ties_broken_by_id(store: ConversationStore) -> None:
    same_time = [conversation(minute=5) for _ in range(3)]
    older, newer = conversation(minute=1), conversation(minute=9)
    for c in [*same_time, older, newer]:
        await store.add_conversation(c, [])

    listed = await store.list_conversations("alice", 10)
    expected_ties = sorted((c.id for c in same_time), reverse=True)
    assert [c.id for c in listed] == [newer.id, *expected_ties, older.id]
    assert await store.count_conversations("alice") == 5


async def test_offset_and_keyset_paging_agree(store: ConversationStore) -> None:
    for minute in range(10):
        await store.add_conversation(conversation(minute=minute % 4), [])
    everything = await store.list_conversations("alice", 100)

    by_offset = await store.list_conversations("alice", 3, offset=3)
    assert by_offset == everything[3:6]

    last_of_first_page = everything[2]
    position = ListPosition(last_of_first_page.updated_at, last_of_first_page.id)
    assert await store.list_conversations("alice", 3, after=position) == everything[3:6]


async def test_append_adds_messages_and_increments_counters(store: ConversationStore) -> None:
    c = conversation(message_count=2, total_tokens=4)
    await store.add_conversation(c, [message(c.id, "a b"), message(c.id, "c d", Role.ASSISTANT)])

    later = T0 + timedelta(hours=1)
    update = Conversation(
        id=c.id,
        user_id=c.user_id,
        title=c.title,
        mode=c.mode,
        created_at=c.created_at,
        updated_at=later,
        message_count=4,
        total_tokens=9,
    )
    new = [message(c.id, "e f g", second=5), message(c.id, "h i", Role.ASSISTANT, second=6)]
    await store.append_messages(update, new, expected_leaf_id=c.active_leaf_id)

    stored = await store.get_conversation("alice", c.id)
    assert stored is not None
    assert (stored.message_count, stored.total_tokens, stored.updated_at) == (4, 9, later)
    # usage counters add the new messages' prompt and completion tokens (3 and 2 each)
    assert (stored.prompt_tokens, stored.completion_tokens) == (c.prompt_tokens + 6, c.completion_tokens + 4)
    assert [m.content for m in await store.list_messages(c.id)] == ["a b", "c d", "e f g", "h i"]


async def test_append_to_a_deleted_conversation_fails(store: ConversationStore) -> None:
    c = conversation()
    await store.add_conversation(c, [])
    await store.delete_conversation(c.id)
    with pytest.raises(ConversationNotFound):
        await store.append_messages(c, [message(c.id, "late")], expected_leaf_id=c.active_leaf_id)


async def test_append_against_a_moved_leaf_stores_nothing(store: ConversationStore) -> None:
    c = conversation()
    first = message(c.id, "first")
    await store.add_conversation(attrs.evolve(c, active_leaf_id=first.id), [first])
    winner, loser = reply(first, "winner", Role.USER), reply(first, "loser", Role.USER)
    await store.append_messages(attrs.evolve(c, active_leaf_id=winner.id), [winner], expected_leaf_id=first.id)

    # The second turn was prepared against ``first`` too; it must not fork a silent branch.
    with pytest.raises(TurnConflict):
        await store.append_messages(attrs.evolve(c, active_leaf_id=loser.id), [loser], expected_leaf_id=first.id)

    stored = await store.get_conversation("alice", c.id)
    assert stored is not None and stored.active_leaf_id == winner.id
    assert [m.content for m in await store.list_messages(c.id)] == ["first", "winner"]


def reply(parent: Message, text: str, role: Role = Role.ASSISTANT) -> Message:
    return attrs.evolve(message(parent.conversation_id, text, role), parent_id=parent.id)


async def branched(store: ConversationStore) -> tuple[Conversation, list[Message]]:
    """u1 -> a1 -> (u2 -> a2 | u2b -> a2b): an edit of the second question, stored last."""
    c = conversation()
    u1 = message(c.id, "u1")
    a1 = reply(u1, "a1")
    u2 = reply(a1, "u2", Role.USER)
    a2 = reply(u2, "a2")
    u2b = reply(a1, "u2b", Role.USER)
    a2b = reply(u2b, "a2b")
    await store.add_conversation(attrs.evolve(c, active_leaf_id=a2.id), [u1, a1, u2, a2])
    await store.append_messages(attrs.evolve(c, active_leaf_id=a2b.id), [u2b, a2b], expected_leaf_id=a2.id)
    return c, [u1, a1, u2, a2, u2b, a2b]


async def test_a_branch_follows_parents_not_insertion_order(store: ConversationStore) -> None:
    c, (u1, a1, u2, a2, u2b, a2b) = await branched(store)
    assert await store.branch(c.id, a2b.id) == [u1, a1, u2b, a2b]
    assert await store.branch(c.id, a2.id) == [u1, a1, u2, a2]
    assert await store.branch(c.id, u1.id) == [u1]
    assert await store.branch(c.id, new_id()) == []
    # every message of every branch, parents first
    assert await store.list_messages(c.id) == [u1, a1, u2, a2, u2b, a2b]


async def test_children_are_the_alternatives_at_one_point(store: ConversationStore) -> None:
    c, (u1, a1, u2, _, u2b, a2b) = await branched(store)
    assert await store.children(c.id, None) == [u1]
    assert await store.children(c.id, a1.id) == [u2, u2b]
    assert await store.children(c.id, a2b.id) == []


async def test_append_moves_the_active_leaf_and_it_can_be_switched(store: ConversationStore) -> None:
    c, (_, _, _, a2, _, a2b) = await branched(store)
    stored = await store.get_conversation("alice", c.id)
    assert stored is not None and stored.active_leaf_id == a2b.id
    assert await store.set_active_leaf(c.id, a2.id)
    stored = await store.get_conversation("alice", c.id)
    assert stored is not None and stored.active_leaf_id == a2.id
    assert not await store.set_active_leaf(new_id(), a2.id)


async def test_messages_are_found_only_in_their_own_conversation(store: ConversationStore) -> None:
    c, (u1, *_) = await branched(store)
    other = conversation()
    await store.add_conversation(other, [])
    assert await store.get_message(c.id, u1.id) == u1
    assert await store.get_message(other.id, u1.id) is None
    assert await store.branch(other.id, u1.id) == []
    assert await store.children(other.id, None) == []


async def test_a_summary_is_saved_and_its_cost_counted(store: ConversationStore) -> None:
    c, messages = await branched(store)
    before = await store.get_conversation("alice", c.id)
    summary = Summary("The user is Ada.", messages[1].id, 5)
    assert await store.save_summary(c.id, summary, 30, 7)
    after = await store.get_conversation("alice", c.id)
    assert before is not None and after is not None
    assert after.summary == summary
    assert (after.prompt_tokens, after.completion_tokens) == (before.prompt_tokens + 30, before.completion_tokens + 7)
    assert after.message_count == before.message_count
    assert not await store.save_summary(new_id(), summary, 1, 1)


async def test_rename_changes_only_the_title(store: ConversationStore) -> None:
    c = conversation()
    await store.add_conversation(c, [])
    assert await store.rename_conversation(c.id, "renamed")
    stored = await store.get_conversation("alice", c.id)
    assert stored is not None and stored.title == "renamed" and stored.updated_at == c.updated_at
    assert not await store.rename_conversation(new_id(), "ghost")


async def test_delete_removes_the_conversation_and_its_messages(store: ConversationStore) -> None:
    keep, drop = conversation(), conversation()
    await store.add_conversation(keep, [message(keep.id, "stay")])
    await store.add_conversation(drop, [message(drop.id, "go")])

    assert await store.delete_conversation(drop.id)
    assert not await store.delete_conversation(drop.id)
    assert await store.get_conversation(None, drop.id) is None
    assert await store.list_messages(drop.id) == []
    assert [m.content for m in await store.list_messages(keep.id)] == ["stay"]


async def test_ping(store: ConversationStore) -> None:
    await store.ping()


async def test_sqlite_survives_a_restart(tmp_path: Path) -> None:
    c = conversation()
    async with open_sqlite_store(tmp_path / "db.sqlite3") as first:
        await first.add_conversation(c, [message(c.id, "persist me")])
    async with open_sqlite_store(tmp_path / "db.sqlite3") as second:
        assert await second.get_conversation("alice", c.id) == c
        assert [m.content for m in await second.list_messages(c.id)] == ["persist me"]


async def test_sqlite_schema_is_created_and_versioned(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "db.sqlite3"
    async with open_sqlite_store(path):
        pass
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"conversations", "messages"} <= tables


async def test_sqlite_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    async with open_sqlite_store(tmp_path / "db.sqlite3") as sqlite:
        c = conversation()
        duplicate = message(c.id, "one")
        with pytest.raises(sqlite3.IntegrityError):
            await sqlite.add_conversation(c, [duplicate, duplicate])
        assert await sqlite.get_conversation(None, c.id) is None
        assert await sqlite.list_messages(c.id) == []
