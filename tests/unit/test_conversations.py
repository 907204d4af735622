"""The conversation use cases, on the in-memory store and a scripted model."""

from __future__ import annotations

import attrs
import pytest

from botgpt.adapters.memory_store import MemoryConversationStore
from botgpt.domain.conversations import ConversationService
from botgpt.domain.errors import (
    ConversationNotFound,
    InvalidId,
    InvalidRequest,
    MessageTooLarge,
    ModelFailed,
    ModelUnavailable,
    UnsupportedMode,
)
from botgpt.domain.history import ConversationHistory
from botgpt.domain.model import Mode, Role
from botgpt.domain.policy import TitleStrategy
from tests.fakes import ScriptedChatModel


def history(service: ConversationService) -> ConversationHistory:
    """The read-and-manage use cases over the same store and policy."""
    return ConversationHistory(service.store, service.policy)


async def test_start_stores_the_first_turn(service: ConversationService, store: MemoryConversationStore) -> None:
    turn = await service.start("alice", "Explain SQLite in simple terms")

    detail = await history(service).get("alice", turn.conversation.id)
    assert [m.role for m in detail.messages] == [Role.USER, Role.ASSISTANT]
    assert detail.messages[0].content == "Explain SQLite in simple terms"
    assert detail.messages[1].content == "answer 1"
    assert detail.messages[1].model == "scripted"
    assert detail.conversation.title == "Explain SQLite in simple terms"
    assert detail.conversation.message_count == 2
    assert detail.conversation.total_tokens == 5 + 2


async def test_post_sends_history_in_order(service: ConversationService, chat: ScriptedChatModel) -> None:
    turn = await service.start("alice", "first question")
    await service.post("alice", turn.conversation.id, "second question")

    prompt = chat.prompts[-1]
    assert [(m.role, m.content) for m in prompt] == [
        (Role.SYSTEM, "be brief"),
        (Role.USER, "first question"),
        (Role.ASSISTANT, "answer 1"),
        (Role.USER, "second question"),
    ]


async def test_post_counts_messages_and_tokens(service: ConversationService) -> None:
    turn = await service.start("alice", "one two")
    second = await service.post("alice", turn.conversation.id, "three four five")

    assert second.conversation.message_count == 4
    stored = (await history(service).get("alice", turn.conversation.id)).conversation
    assert stored.message_count == 4
    assert stored.total_tokens == sum(m.tokens for m in (await history(service).get("alice", stored.id)).messages)


@pytest.mark.parametrize("error", [ModelUnavailable("busy", retry_after=2), ModelFailed("bad")])
async def test_failed_start_stores_nothing(
    service: ConversationService,
    chat: ScriptedChatModel,
    store: MemoryConversationStore,
    error: Exception,
) -> None:
    chat.fail_next(error)
    with pytest.raises(type(error)):
        await service.start("alice", "hello")
    assert await store.count_conversations("alice") == 0


async def test_failed_post_stores_nothing_and_a_retry_succeeds(
    service: ConversationService, chat: ScriptedChatModel
) -> None:
    turn = await service.start("alice", "hello")
    chat.fail_next(ModelUnavailable("busy"))
    with pytest.raises(ModelUnavailable):
        await service.post("alice", turn.conversation.id, "again")
    assert len((await history(service).get("alice", turn.conversation.id)).messages) == 2

    await service.post("alice", turn.conversation.id, "again")
    contents = [m.content for m in (await history(service).get("alice", turn.conversation.id)).messages]
    assert contents == ["hello", "answer 1", "again", "answer 3"]


async def test_empty_answer_is_a_failure_not_a_message(
    store: MemoryConversationStore, service: ConversationService
) -> None:
    service.chat = ScriptedChatModel(answers=["   "])
    with pytest.raises(ModelFailed):
        await service.start("alice", "hello")
    assert await store.count_conversations("alice") == 0


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
async def test_empty_message_is_rejected(service: ConversationService, chat: ScriptedChatModel, text: str) -> None:
    with pytest.raises(InvalidRequest):
        await service.start("alice", text)
    assert chat.prompts == []


async def test_message_over_the_configured_size_is_rejected(service: ConversationService) -> None:
    service.policy = attrs.evolve(service.policy, max_message_chars=10)
    with pytest.raises(MessageTooLarge):
        await service.start("alice", "x" * 11)


async def test_message_that_cannot_fit_the_context_is_rejected(
    service: ConversationService,
) -> None:
    service.chat = ScriptedChatModel(context_window=64)
    with pytest.raises(MessageTooLarge):
        await service.start("alice", "word " * 60)


async def test_history_is_packed_by_token_budget(service: ConversationService) -> None:
    # window 100, answer 16 -> usable int(84 * 0.9) = 75 tokens of prompt
    service.chat = ScriptedChatModel(context_window=100, answers=["ok"] * 50)
    turn = await service.start("alice", "w " * 5)
    for _ in range(10):
        await service.post("alice", turn.conversation.id, "w " * 5)
    prompt = service.chat.prompts[-1]  # type: ignore[attr-defined]
    history = prompt[1:-1]
    cost = sum(len(m.content.split()) + 4 for m in prompt)
    assert cost <= 75
    # the newest history is kept: it ends with the previous answer
    assert history[-1].role is Role.ASSISTANT
    assert 0 < len(history) < 20


async def test_history_ceiling_applies_even_when_tokens_allow_more(
    service: ConversationService,
) -> None:
    service.policy = attrs.evolve(service.policy, history_max_messages=3)
    turn = await service.start("alice", "a")
    for _ in range(4):
        await service.post("alice", turn.conversation.id, "b")
    assert len(service.chat.prompts[-1]) == 1 + 3 + 1  # type: ignore[attr-defined]


async def test_another_users_conversation_is_not_found(service: ConversationService) -> None:
    turn = await service.start("alice", "secret")
    cid = turn.conversation.id
    with pytest.raises(ConversationNotFound):
        await history(service).get("mallory", cid)
    with pytest.raises(ConversationNotFound):
        await service.post("mallory", cid, "hi")
    with pytest.raises(ConversationNotFound):
        await history(service).rename("mallory", cid, "mine")
    with pytest.raises(ConversationNotFound):
        await history(service).delete("mallory", cid)
    assert (await history(service).get("alice", cid)).conversation.title == "secret"


async def test_malformed_and_unknown_ids(service: ConversationService) -> None:
    with pytest.raises(InvalidId):
        await history(service).get("alice", "../etc/passwd")
    with pytest.raises(ConversationNotFound):
        await history(service).get("alice", "0" * 32)


async def test_list_is_newest_first_with_totals(service: ConversationService) -> None:
    ids = [(await service.start("alice", f"topic {i}")).conversation.id for i in range(5)]
    await service.start("bob", "not alice's")

    page = await history(service).list_conversations("alice", limit=2)
    assert [c.id for c in page.items] == [ids[4], ids[3]]
    assert page.total == 5
    assert page.has_more and page.next_cursor

    last = await history(service).list_conversations("alice", limit=2, offset=4)
    assert [c.id for c in last.items] == [ids[0]]
    assert not last.has_more and last.next_cursor is None


async def test_cursor_walks_every_conversation_once(service: ConversationService) -> None:
    ids = {(await service.start("alice", f"topic {i}")).conversation.id for i in range(7)}
    seen: list[str] = []
    cursor = None
    while True:
        page = await history(service).list_conversations("alice", limit=3, cursor=cursor)
        seen += [c.id for c in page.items]
        if not page.has_more:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(ids) and len(seen) == len(ids)


async def test_activity_moves_a_conversation_to_the_top(service: ConversationService) -> None:
    old = await service.start("alice", "old")
    await service.start("alice", "new")
    await service.post("alice", old.conversation.id, "bump")
    assert (await history(service).list_conversations("alice")).items[0].id == old.conversation.id


@pytest.mark.parametrize(
    ("limit", "offset", "cursor"),
    [(0, 0, None), (101, 0, None), (10, -1, None), (10, 5, "abc"), (10, 0, "!!")],
)
async def test_bad_paging_is_rejected(
    service: ConversationService, limit: int, offset: int, cursor: str | None
) -> None:
    with pytest.raises(InvalidRequest):
        await history(service).list_conversations("alice", limit=limit, offset=offset, cursor=cursor)


async def test_rename(service: ConversationService) -> None:
    turn = await service.start("alice", "hello")
    renamed = await history(service).rename("alice", turn.conversation.id, "  Greetings   again ")
    assert renamed.title == "Greetings again"
    assert (await history(service).get("alice", turn.conversation.id)).conversation.title == "Greetings again"
    with pytest.raises(InvalidRequest):
        await history(service).rename("alice", turn.conversation.id, "   ")


async def test_delete_removes_messages(service: ConversationService, store: MemoryConversationStore) -> None:
    turn = await service.start("alice", "hello")
    await history(service).delete("alice", turn.conversation.id)
    with pytest.raises(ConversationNotFound):
        await history(service).get("alice", turn.conversation.id)
    assert await store.list_messages(turn.conversation.id) == []


async def test_open_mode_reaches_a_conversation_by_id(service: ConversationService) -> None:
    turn = await service.start("alice", "hello")
    assert (await history(service).get(None, turn.conversation.id)).conversation.user_id == "alice"


async def test_model_written_title(service: ConversationService) -> None:
    service.policy = attrs.evolve(service.policy, title_strategy=TitleStrategy.MODEL)
    service.chat = ScriptedChatModel(answers=["the answer", 'Title: "SQLite basics"'])
    turn = await service.start("alice", "Explain SQLite to me please")
    assert turn.conversation.title == "SQLite basics"


async def test_model_title_failure_falls_back_to_the_first_message(
    service: ConversationService,
) -> None:
    service.policy = attrs.evolve(service.policy, title_strategy=TitleStrategy.MODEL)
    chat = ScriptedChatModel(answers=["the answer"])
    service.chat = chat
    original_complete = chat.complete

    async def fail_on_title(messages, options):  # type: ignore[no-untyped-def]
        if len(chat.prompts) == 1:
            chat.fail_next(ModelUnavailable("busy"))
        return await original_complete(messages, options)

    chat.complete = fail_on_title  # type: ignore[method-assign]
    turn = await service.start("alice", "Explain SQLite to me please")
    assert turn.conversation.title == "Explain SQLite to me please"
    assert turn.assistant_message.content == "the answer"


async def test_rag_mode_is_refused_until_documents_exist(service: ConversationService) -> None:
    with pytest.raises(UnsupportedMode):
        await service.start("alice", "hello", Mode.RAG, ["0" * 32])
    with pytest.raises(InvalidRequest):
        await service.start("alice", "hello", Mode.OPEN_CHAT, ["0" * 32])
