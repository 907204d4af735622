from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from botgpt.adapters.memory_store import MemoryConversationStore
from botgpt.domain.conversations import ConversationService
from botgpt.domain.policy import ConversationPolicy
from tests.fakes import ScriptedChatModel, WordCounter


class SteppingClock:
    """A clock that moves one millisecond per reading, so orderings are deterministic."""

    def __init__(self) -> None:
        self._ticks = itertools.count()
        self._start = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self._start + timedelta(milliseconds=next(self._ticks))


@pytest.fixture
def chat() -> ScriptedChatModel:
    return ScriptedChatModel()


@pytest.fixture
def store() -> MemoryConversationStore:
    return MemoryConversationStore()


@pytest.fixture
def policy() -> ConversationPolicy:
    return ConversationPolicy(system_prompt="be brief", max_answer_tokens=16)


@pytest.fixture
def service(store: MemoryConversationStore, chat: ScriptedChatModel, policy: ConversationPolicy) -> ConversationService:
    return ConversationService(store=store, chat=chat, tokens=WordCounter(), policy=policy, clock=SteppingClock())
