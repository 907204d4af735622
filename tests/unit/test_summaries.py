"""Summary memory: what scrolls out of the window is folded into a summary the prompt carries."""

from __future__ import annotations

import asyncio

import attrs

from botgpt.adapters.memory_keys import MemoryUsageStore
from botgpt.adapters.memory_store import MemoryConversationStore
from botgpt.domain.conversations import ConversationService
from botgpt.domain.policy import ConversationPolicy
from botgpt.domain.prompting import SUMMARY_HEADING, PromptBuilder
from botgpt.domain.summaries import SummaryMemory
from botgpt.domain.usage import UsageService
from tests.conftest import SteppingClock
from tests.fakes import KeywordSummarizer, ScriptedChatModel, WordCounter

FACT = "Please remember that my locker code is 4711."
POLICY = ConversationPolicy(system_prompt="be brief", max_answer_tokens=16)


def wired(memory_on: bool) -> tuple[ConversationService, ScriptedChatModel, SummaryMemory, UsageService]:
    store = MemoryConversationStore()
    # A small window: only a few turns of history fit a prompt.
    chat = ScriptedChatModel(context_window=260, answers=[f"Here is a short answer number {n}." for n in range(99)])
    tokens = WordCounter()
    policy = attrs.evolve(POLICY, summary_memory=memory_on, summary_max_tokens=40)
    usage = UsageService(MemoryUsageStore(), SteppingClock())
    memory = SummaryMemory(store, KeywordSummarizer(["remember"]), tokens, PromptBuilder(chat, tokens, policy), usage)
    service = ConversationService(
        store=store, chat=chat, tokens=tokens, policy=policy, clock=SteppingClock(),
        after_turn=memory if memory_on else None,
    )  # fmt: skip
    return service, chat, memory, usage


async def forty_turns(service: ConversationService, memory: SummaryMemory) -> str:
    first = await service.start("alice", FACT)
    for turn in range(2, 41):
        await memory.drain()  # summaries run after each answer; let each finish, as a pause between turns does
        await service.post("alice", first.conversation.id, f"Tell me one thing about topic number {turn}, please.")
    return first.conversation.id


async def test_a_fact_from_turn_1_reaches_the_prompt_of_turn_40() -> None:
    service, chat, memory, _ = wired(memory_on=True)
    await forty_turns(service, memory)
    last_prompt = chat.prompts[-1]
    system = last_prompt[0].content
    assert system.startswith("be brief") and SUMMARY_HEADING in system
    assert "4711" in system
    # the fact's own turn is long gone from the history itself
    assert all(FACT not in m.content for m in last_prompt[1:])


async def test_without_summary_memory_the_fact_is_lost_by_turn_40() -> None:
    service, chat, memory, _ = wired(memory_on=False)
    await forty_turns(service, memory)
    assert all("4711" not in m.content for m in chat.prompts[-1])


async def test_the_summary_is_incremental_and_follows_the_window() -> None:
    service, _, memory, _ = wired(memory_on=True)
    cid = await forty_turns(service, memory)
    writer = memory.writer
    assert isinstance(writer, KeywordSummarizer)
    # many turns, few summaries: folding takes extra room each time (hysteresis)
    assert 1 < len(writer.prompts) < 20
    # each later summary call starts from the previous summary, not from the whole history
    assert all("4711" in prompt[-1].content.split("New messages:")[0] for prompt in writer.prompts[1:])
    assert all(FACT not in prompt[-1].content.split("New messages:")[1] for prompt in writer.prompts[1:])
    conversation = await service.store.get_conversation("alice", cid)
    assert conversation is not None and conversation.summary is not None
    path_ids = [m.id for m in await service.store.branch(cid, conversation.active_leaf_id or "")]
    assert conversation.summary.through_id in path_ids


async def test_the_summary_never_delays_a_turn_and_its_cost_is_recorded() -> None:
    service, _, memory, usage = wired(memory_on=True)
    writer = memory.writer
    assert isinstance(writer, KeywordSummarizer)
    writer.gate = asyncio.Event()
    first = await service.start("alice", FACT)
    for turn in range(2, 12):
        # turns complete while the summary writer is blocked
        await asyncio.wait_for(service.post("alice", first.conversation.id, f"More about topic {turn}, please."), 1)
    before = await service.store.get_conversation("alice", first.conversation.id)
    assert before is not None and before.summary is None
    writer.gate.set()
    await memory.drain()
    after = await service.store.get_conversation("alice", first.conversation.id)
    assert after is not None and after.summary is not None
    spent = sum(sum(len(m.content.split()) for m in prompt) for prompt in writer.prompts)
    assert after.prompt_tokens == before.prompt_tokens + spent
    totals = await usage.totals("alice")
    assert totals.prompt_tokens == spent and totals.completion_tokens > 0


async def test_a_summary_on_another_branch_is_not_used() -> None:
    service, chat, memory, _ = wired(memory_on=True)
    cid = await forty_turns(service, memory)
    first_answer = (await service.store.list_messages(cid))[1]
    await service.post("alice", cid, "Start again from here.", parent_id=first_answer.id)
    assert SUMMARY_HEADING not in chat.prompts[-1][0].content


async def test_a_long_overflow_is_folded_in_batches_that_fit_the_writer() -> None:
    store, tokens = MemoryConversationStore(), WordCounter()
    answers = [" ".join(["filler"] * 60) for _ in range(40)]
    chat = ScriptedChatModel(answers, context_window=2000)
    policy = attrs.evolve(POLICY, summary_max_tokens=40)
    service = ConversationService(store=store, chat=chat, tokens=tokens, policy=policy, clock=SteppingClock())
    first = await service.start("alice", FACT)
    for turn in range(2, 30):
        await service.post("alice", first.conversation.id, f"Another question about {turn}: " + "word " * 150)
    # A writer with a small window cannot take the whole overflow in one prompt.
    writer = KeywordSummarizer(["remember"], context_window=400)
    memory = SummaryMemory(store, writer, tokens, PromptBuilder(chat, tokens, policy))
    summary = await memory.refresh(first.conversation.id)

    assert summary is not None and "4711" in summary.text
    assert len(writer.prompts) > 1
    usable = int((400 - 40) * 0.9)
    assert all(sum(len(m.content.split()) + 4 for m in prompt) <= usable for prompt in writer.prompts)
    # every later batch starts from the summary so far
    assert all("4711" in prompt[-1].content.split("New messages:")[0] for prompt in writer.prompts[1:])
    path = await store.branch(first.conversation.id, (await store.list_messages(first.conversation.id))[-1].id)
    assert summary.through_id in [m.id for m in path[:-2]]
