"""The one-method chat provider base: today's ``generate(messages, options)`` and the
``generate(messages)`` that plugins written before the options existed still define."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import pytest

from botgpt.domain.errors import ModelFailed
from botgpt.domain.model import ChatMessage, GenerationOptions, Role
from botgpt.plugins.simple_chat import SimpleChatModel

QUESTION = [ChatMessage(Role.USER, "Say something.")]


class Current(SimpleChatModel):
    name = "current"

    async def generate(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> str:
        return f"cap {options.max_tokens}. Then more."


async def test_generate_receives_the_options_and_stops_apply() -> None:
    completion = await Current().complete(QUESTION, GenerationOptions(max_tokens=7, stop=("Then",)))
    assert completion.text == "cap 7. "
    assert completion.model == "current"
    assert completion.completion_tokens >= 1


def test_a_legacy_generate_is_still_accepted_with_a_deprecation_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        class Legacy(SimpleChatModel):
            name = "legacy"

            async def generate(self, messages: Sequence[ChatMessage]) -> str:  # type: ignore[override]
                return f"{len(messages)} message. Extra"

    assert any(issubclass(w.category, DeprecationWarning) and "Legacy.generate" in str(w.message) for w in caught)


async def test_a_legacy_generate_answers_and_still_honours_stop() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)

        class Legacy(SimpleChatModel):
            name = "legacy"

            async def generate(self, messages: Sequence[ChatMessage]) -> str:  # type: ignore[override]
                return f"{len(messages)} message. Extra"

    completion = await Legacy().complete(QUESTION, GenerationOptions(max_tokens=5, stop=(" Extra",)))
    assert completion.text == "1 message."


async def test_an_empty_answer_is_a_failure_not_an_answer() -> None:
    class Silent(SimpleChatModel):
        async def generate(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> str:
            return "   "

    with pytest.raises(ModelFailed):
        await Silent().complete(QUESTION, GenerationOptions(max_tokens=5))
