"""Regenerate, edit and branch: the use cases on the in-memory store and a scripted model."""

from __future__ import annotations

import pytest

from botgpt.adapters.memory_store import MemoryConversationStore
from botgpt.domain.conversations import ROOT, ConversationService
from botgpt.domain.errors import (
    ConversationNotFound,
    InvalidRequest,
    MessageNotFound,
    ModelUnavailable,
    NothingToRegenerate,
)
from botgpt.domain.history import ConversationHistory
from botgpt.domain.model import Role
from tests.fakes import ScriptedChatModel


@pytest.fixture
def history(service: ConversationService) -> ConversationHistory:
    return ConversationHistory(service.store, service.policy)


async def contents(history: ConversationHistory, cid: str) -> list[str]:
    return [m.content for m in (await history.get("alice", cid)).messages]


async def test_regenerate_adds_a_sibling_answer_and_makes_it_active(
    service: ConversationService, history: ConversationHistory, chat: ScriptedChatModel
) -> None:
    first = await service.start("alice", "hello")
    cid = first.conversation.id
    again = await service.regenerate("alice", cid)

    assert again.user_message == first.user_message
    assert again.assistant_message.parent_id == first.user_message.id
    assert await contents(history, cid) == ["hello", "answer 2"]
    siblings = await history.siblings("alice", cid, first.assistant_message.id)
    assert [m.content for m in siblings.messages] == ["answer 1", "answer 2"]
    assert siblings.active_id == again.assistant_message.id
    # the regenerated prompt is the original one: same question, no trace of the old answer
    assert chat.prompts[1] == chat.prompts[0]
    # sampled more freely, so that the new answer can differ
    assert chat.temperatures == [service.policy.temperature, service.policy.regenerate_temperature]
    stored = (await history.get("alice", cid)).conversation
    assert stored.message_count == 3


async def test_an_edit_branches_and_the_context_follows_the_branch(
    service: ConversationService, history: ConversationHistory, chat: ScriptedChatModel
) -> None:
    first = await service.start("alice", "my name is Ada")
    cid = first.conversation.id
    await service.post("alice", cid, "I live in Paris")
    edited = await service.post("alice", cid, "I live in Rome", parent_id=first.assistant_message.id)

    assert await contents(history, cid) == ["my name is Ada", "answer 1", "I live in Rome", "answer 3"]
    assert "Paris" not in " ".join(m.content for m in chat.prompts[-1])
    await service.post("alice", cid, "where do I live?")
    assert "Paris" not in " ".join(m.content for m in chat.prompts[-1])
    assert "Rome" in " ".join(m.content for m in chat.prompts[-1])
    alternatives = await history.siblings("alice", cid, edited.user_message.id)
    assert [m.content for m in alternatives.messages] == ["I live in Paris", "I live in Rome"]


async def test_editing_the_first_message_starts_a_new_root(
    service: ConversationService, history: ConversationHistory, chat: ScriptedChatModel
) -> None:
    first = await service.start("alice", "hello")
    edited = await service.post("alice", first.conversation.id, "hi there", parent_id=ROOT)
    assert edited.user_message.parent_id is None
    assert [m.role for m in chat.prompts[-1]] == [Role.SYSTEM, Role.USER]  # no history before a first message
    assert await contents(history, first.conversation.id) == ["hi there", "answer 2"]
    roots = await history.siblings("alice", first.conversation.id, first.user_message.id)
    assert [m.content for m in roots.messages] == ["hello", "hi there"]


async def test_switching_branches_lands_on_the_newest_leaf(
    service: ConversationService, history: ConversationHistory
) -> None:
    first = await service.start("alice", "q1")
    cid = first.conversation.id
    await service.post("alice", cid, "q2")
    await service.post("alice", cid, "q3")
    await service.post("alice", cid, "q2 again", parent_id=first.assistant_message.id)

    detail = await history.switch_branch("alice", cid, first.assistant_message.id)
    assert [m.content for m in detail.messages] == ["q1", "answer 1", "q2 again", "answer 4"]
    old_q2 = (await history.siblings("alice", cid, detail.messages[2].id)).messages[0]
    detail = await history.switch_branch("alice", cid, old_q2.id)
    assert [m.content for m in detail.messages] == ["q1", "answer 1", "q2", "answer 2", "q3", "answer 3"]
    follow = await service.post("alice", cid, "q4")
    assert follow.user_message.parent_id == detail.messages[-1].id


async def test_regenerating_with_no_user_message_is_a_conflict(
    service: ConversationService, store: MemoryConversationStore
) -> None:
    first = await service.start("alice", "hello")
    empty = first.conversation.id
    await store.delete_conversation(empty)
    await store.add_conversation(first.conversation, [])  # a conversation without messages
    with pytest.raises(NothingToRegenerate):
        await service.regenerate("alice", empty)


async def test_a_failed_regenerate_stores_nothing(
    service: ConversationService, history: ConversationHistory, chat: ScriptedChatModel
) -> None:
    first = await service.start("alice", "hello")
    chat.fail_next(ModelUnavailable("busy"))
    with pytest.raises(ModelUnavailable):
        await service.regenerate("alice", first.conversation.id)
    siblings = await history.siblings("alice", first.conversation.id, first.assistant_message.id)
    assert [m.content for m in siblings.messages] == ["answer 1"]


async def test_parents_must_be_this_conversations_assistant_messages(
    service: ConversationService, history: ConversationHistory
) -> None:
    mine = await service.start("alice", "mine")
    other = await service.start("alice", "other")
    bobs = await service.start("bob", "bob's")
    cid = mine.conversation.id
    for foreign in (other.assistant_message.id, bobs.assistant_message.id, "f" * 32):
        with pytest.raises(MessageNotFound):
            await service.post("alice", cid, "x", parent_id=foreign)
        with pytest.raises(MessageNotFound):
            await history.siblings("alice", cid, foreign)
        with pytest.raises(MessageNotFound):
            await history.switch_branch("alice", cid, foreign)
    with pytest.raises(InvalidRequest):
        await service.post("alice", cid, "x", parent_id=mine.user_message.id)
    with pytest.raises(InvalidRequest):
        await service.post("alice", cid, "x", parent_id="../../etc")


async def test_another_user_can_neither_branch_nor_read_branches(
    service: ConversationService, history: ConversationHistory
) -> None:
    turn = await service.start("alice", "secret")
    cid, answer = turn.conversation.id, turn.assistant_message.id
    with pytest.raises(ConversationNotFound):
        await service.regenerate("mallory", cid)
    with pytest.raises(ConversationNotFound):
        await service.post("mallory", cid, "x", parent_id=answer)
    with pytest.raises(ConversationNotFound):
        await history.siblings("mallory", cid, answer)
    with pytest.raises(ConversationNotFound):
        await history.switch_branch("mallory", cid, answer)
    assert [m.role for m in (await history.get("alice", cid)).messages] == [Role.USER, Role.ASSISTANT]


async def test_delete_removes_every_branch(
    service: ConversationService, history: ConversationHistory, store: MemoryConversationStore
) -> None:
    first = await service.start("alice", "hello")
    await service.regenerate("alice", first.conversation.id)
    await service.post("alice", first.conversation.id, "edit", parent_id=ROOT)
    await history.delete("alice", first.conversation.id)
    assert await store.list_messages(first.conversation.id) == []
