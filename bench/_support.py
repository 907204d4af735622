"""Shared helpers for the benchmarks: a stand-in model, statistics, seeding."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from botgpt.adapters.engine_client import EngineChatModel
from botgpt.domain.ids import new_id
from botgpt.domain.model import ChatMessage, Completion, Conversation, GenerationOptions, Message, Mode, Role
from botgpt.plugins.builtin.local_chat import build_llama_cpp
from botgpt.plugins.hookspecs import PluginContext
from botgpt.ports.stores import ConversationStore


class InstantChatModel:
    """Answers at once, so that a benchmark measures botgpt and not the model.

    Benchmark-only: it is never wired into the product.
    """

    name = "instant"
    context_window = 8192
    loaded = True

    async def complete(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Completion:
        return Completion(text="An instant answer.", model=self.name, prompt_tokens=1, completion_tokens=4)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


async def seed_conversations(store: ConversationStore, user: str, count: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for index in range(count):
        at = start + timedelta(seconds=index)
        conversation = Conversation(
            id=new_id(),
            user_id=user,
            title=f"Conversation {index}",
            mode=Mode.OPEN_CHAT,
            created_at=at,
            updated_at=at,
            message_count=2,
            total_tokens=20,
        )
        await store.add_conversation(conversation, [])


async def seed_long_conversation(store: ConversationStore, user: str, messages: int) -> Conversation:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    conversation = Conversation(
        id=new_id(), user_id=user, title="Long", mode=Mode.OPEN_CHAT, created_at=start, updated_at=start
    )
    history = [
        Message(
            id=new_id(),
            conversation_id=conversation.id,
            role=Role.USER if index % 2 == 0 else Role.ASSISTANT,
            content=f"Message number {index} with a few words of text in it.",
            created_at=start + timedelta(seconds=index),
            tokens=14,
        )
        for index in range(messages)
    ]
    conversation = Conversation(
        id=conversation.id,
        user_id=user,
        title="Long",
        mode=Mode.OPEN_CHAT,
        created_at=start,
        updated_at=history[-1].created_at,
        message_count=messages,
        total_tokens=14 * messages,
    )
    await store.add_conversation(conversation, history)
    return conversation


async def started_local_model(**settings: object) -> EngineChatModel:
    """The local model in its own supervised engine process, once it answers."""
    model = build_llama_cpp(PluginContext(settings))
    await model.load()
    while await model.readiness() != "ok":  # noqa: ASYNC110 (the engine is another process: poll it)
        await asyncio.sleep(0.1)
    return model
