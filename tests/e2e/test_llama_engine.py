"""The local model through its port: the real SmolLM2 GGUF in a supervised engine process."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from botgpt.adapters.engine_client import EngineChatModel
from botgpt.adapters.engine_status import ask_status
from botgpt.domain.errors import MessageTooLarge, ModelUnavailable
from botgpt.domain.model import ChatMessage, Completion, GenerationOptions, Role
from botgpt.plugins.builtin.local_chat import build_llama_cpp
from botgpt.plugins.hookspecs import PluginContext

PROMPT = [ChatMessage(Role.SYSTEM, "You are brief."), ChatMessage(Role.USER, "Name a colour.")]


def local_model(**settings: Any) -> EngineChatModel:
    return build_llama_cpp(PluginContext({"llama_n_ctx": 512, "llama_slots": 2, **settings}))


async def until_ready(model: EngineChatModel) -> None:
    deadline = time.monotonic() + 120
    while await model.readiness() != "ok":
        assert time.monotonic() < deadline, "the engine never became ready"
        await asyncio.sleep(0.1)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def model() -> AsyncIterator[EngineChatModel]:
    model = local_model()
    await model.load()
    await until_ready(model)
    yield model
    await model.close()


pytestmark = [pytest.mark.model, pytest.mark.asyncio(loop_scope="module")]


async def test_answers_with_usage(model: EngineChatModel) -> None:
    completion = await model.complete(PROMPT, GenerationOptions(max_tokens=12, temperature=0.0))
    assert completion.text
    assert completion.model == "SmolLM2-135M-Instruct.Q4_1"
    assert completion.prompt_tokens > 5 and 0 < completion.completion_tokens <= 12


async def test_the_chat_template_comes_from_the_gguf(model: EngineChatModel) -> None:
    completion = await model.complete(PROMPT, GenerationOptions(max_tokens=4, temperature=0.0))
    # <|im_start|>/<|im_end|> markers and the role names cost tokens beyond the raw text.
    raw = sum(len(m.content.split()) for m in PROMPT)
    assert completion.prompt_tokens >= raw + 3 * len(PROMPT)
    assert "<|im_" not in completion.text


async def test_overflowing_the_context_is_message_too_large(model: EngineChatModel) -> None:
    huge = [ChatMessage(Role.USER, "lighthouse " * 900)]
    with pytest.raises(MessageTooLarge):
        await model.complete(huge, GenerationOptions(max_tokens=8, temperature=0.0))


async def test_streamed_usage_matches_the_whole_answer(model: EngineChatModel) -> None:
    whole = await model.complete(PROMPT, GenerationOptions(max_tokens=12, temperature=0.0))
    events = [event async for event in model.stream(PROMPT, GenerationOptions(max_tokens=12, temperature=0.0))]
    streamed = events[-1]
    assert isinstance(streamed, Completion)
    assert "".join(e for e in events if isinstance(e, str)).strip() == streamed.text == whole.text
    assert (streamed.prompt_tokens, streamed.completion_tokens) == (whole.prompt_tokens, whole.completion_tokens)


async def test_concurrent_answers_equal_the_same_answers_one_by_one(model: EngineChatModel) -> None:
    prompts = [[ChatMessage(Role.USER, f"Count from {n} to {n + 5}.")] for n in (1, 20, 300)]
    alone = [await model.complete(p, GenerationOptions(max_tokens=16, temperature=0.0)) for p in prompts]
    together = await asyncio.gather(
        *(model.complete(p, GenerationOptions(max_tokens=16, temperature=0.0)) for p in prompts)
    )
    assert [c.text for c in together] == [c.text for c in alone]


async def test_an_abandoned_stream_stops_and_frees_its_slot(model: EngineChatModel) -> None:
    stream = model.stream(PROMPT, GenerationOptions(max_tokens=200, temperature=0.0))
    assert isinstance(await anext(stream), str)
    await stream.aclose()  # the client went away after one token
    deadline = time.monotonic() + 5
    while ask_status(model.socket_path, 2.0)["active"]:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    again = await model.complete(PROMPT, GenerationOptions(max_tokens=4, temperature=0.0))
    assert again.text


def generate(model: EngineChatModel, messages: list[dict[str, str]], max_tokens: int) -> dict[str, Any]:
    """One request in the engine's own protocol: its ``done`` event."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(model.socket_path))
        request = {"op": "generate", "messages": messages, "max_tokens": max_tokens, "temperature": 0.0}
        sock.sendall(json.dumps(request).encode() + b"\n")
        with sock.makefile("rb") as replies:
            events = [json.loads(line) for line in replies]
    assert events[-1]["event"] == "done", events
    return dict(events[-1])


async def test_a_follow_up_reuses_the_slot_holding_its_prefix(model: EngineChatModel) -> None:
    conversation = [{"role": "user", "content": "Tell me about lighthouses. " * 10}]
    first = await asyncio.to_thread(generate, model, conversation, 8)
    other = await asyncio.to_thread(generate, model, [{"role": "user", "content": "Boats?"}], 4)
    conversation += [{"role": "assistant", "content": first["text"]}, {"role": "user", "content": "And boats?"}]
    follow_up = await asyncio.to_thread(generate, model, conversation, 4)
    assert follow_up["slot"] == first["slot"] != other["slot"]
    # Only the new turn was evaluated: the first prompt and answer came from the slot's cache.
    assert follow_up["reused"] >= first["prompt_tokens"]


async def test_an_engine_that_is_not_running_is_unavailable(tmp_path: Any) -> None:
    model = local_model(engine_attach=True, engine_dir=str(tmp_path))
    assert await model.readiness() == "starting"
    with pytest.raises(ModelUnavailable):
        await model.complete(PROMPT, GenerationOptions(max_tokens=4, temperature=0.0))


async def test_the_real_model_writes_a_summary_that_the_next_prompt_carries(model: EngineChatModel) -> None:
    from botgpt.adapters.memory_store import MemoryConversationStore
    from botgpt.adapters.tiktoken_tokens import TiktokenCounter
    from botgpt.domain.conversations import ConversationService
    from botgpt.domain.policy import ConversationPolicy
    from botgpt.domain.prompting import SUMMARY_HEADING, PromptBuilder
    from botgpt.domain.summaries import SummaryMemory
    from tests.fakes import ScriptedChatModel

    store, tokens = MemoryConversationStore(), TiktokenCounter()
    policy = ConversationPolicy(max_answer_tokens=32, summary_max_tokens=48)
    # The history is written by a scripted model; the real one only writes the summary.
    answers = [f"Noted. Topic {n} is an interesting subject with a long history." for n in range(40)]
    service = ConversationService(store, ScriptedChatModel(answers, context_window=512), tokens, policy)
    first = await service.start("alice", "My name is Ada and my locker code is 4711. Please remember it.")
    for n in range(1, 14):
        await service.post("alice", first.conversation.id, f"Tell me a little about topic {n}, in one sentence.")

    memory = SummaryMemory(store, model, tokens, PromptBuilder(model, tokens, policy))
    summary = await memory.refresh(first.conversation.id)
    assert summary is not None and summary.text.strip() and "<|im_" not in summary.text
    stored = await store.get_conversation("alice", first.conversation.id)
    assert stored is not None and stored.summary == summary
    assert stored.completion_tokens > 0

    service.chat = model
    prepared = await service.prepare_post("alice", first.conversation.id, "What is my locker code?")
    assert prepared.prompt[0].content.endswith(f"{SUMMARY_HEADING}\n{summary.text}")
    print(f"\nreal-model summary ({summary.tokens} tokens): {summary.text!r}")
