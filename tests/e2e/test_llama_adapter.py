"""The llama.cpp adapter against the real SmolLM2 GGUF."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from botgpt.adapters.llamacpp_chat import LlamaCppChatModel, LlamaSettings, bundled_smollm2_path
from botgpt.domain.errors import MessageTooLarge, ModelUnavailable
from botgpt.domain.model import ChatMessage, Completion, Role

pytestmark = pytest.mark.model


@pytest.fixture
async def model() -> AsyncIterator[LlamaCppChatModel]:
    model = LlamaCppChatModel(LlamaSettings(model_path=bundled_smollm2_path(), n_ctx=512))
    await model.load()
    yield model
    await model.close()


PROMPT = [ChatMessage(Role.SYSTEM, "You are brief."), ChatMessage(Role.USER, "Name a colour.")]


async def test_answers_with_usage(model: LlamaCppChatModel) -> None:
    completion = await model.complete(PROMPT, max_tokens=12, temperature=0.0)
    assert completion.text
    assert completion.model == "SmolLM2-135M-Instruct.Q4_1"
    assert completion.prompt_tokens > 5 and 0 < completion.completion_tokens <= 12


async def test_the_chat_template_comes_from_the_gguf(model: LlamaCppChatModel) -> None:
    completion = await model.complete(PROMPT, max_tokens=4, temperature=0.0)
    # <|im_start|>/<|im_end|> markers and the role names cost tokens beyond the raw text.
    raw = sum(len(m.content.split()) for m in PROMPT)
    assert completion.prompt_tokens >= raw + 3 * len(PROMPT)
    assert "<|im_" not in completion.text


async def test_overflowing_the_context_is_message_too_large(model: LlamaCppChatModel) -> None:
    huge = [ChatMessage(Role.USER, "lighthouse " * 900)]
    with pytest.raises(MessageTooLarge):
        await model.complete(huge, max_tokens=8, temperature=0.0)


async def test_unloaded_model_is_unavailable() -> None:
    model = LlamaCppChatModel(LlamaSettings(model_path=bundled_smollm2_path()))
    with pytest.raises(ModelUnavailable):
        await model.complete(PROMPT, max_tokens=4, temperature=0.0)
    await model.close()


async def test_an_abandoned_stream_stops_and_the_model_closes_cleanly(caplog: pytest.LogCaptureFixture) -> None:
    import gc

    model = LlamaCppChatModel(LlamaSettings(model_path=bundled_smollm2_path(), n_ctx=512))
    await model.load()
    stream = model.stream(PROMPT, max_tokens=200, temperature=0.0)
    assert isinstance(await anext(stream), str)
    await stream.aclose()  # the client went away after one token
    again = await model.complete(PROMPT, max_tokens=4, temperature=0.0)  # the model is free again
    assert again.text
    abandoned = model.stream(PROMPT, max_tokens=200, temperature=0.0)
    await anext(abandoned)
    await abandoned.aclose()
    await model.close()  # while the abandoned generation may still be winding down
    gc.collect()
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text


async def test_streamed_usage_matches_the_whole_answer(model: LlamaCppChatModel) -> None:
    whole = await model.complete(PROMPT, max_tokens=12, temperature=0.0)
    events = [event async for event in model.stream(PROMPT, max_tokens=12, temperature=0.0)]
    streamed = events[-1]
    assert isinstance(streamed, Completion)
    assert "".join(e for e in events if isinstance(e, str)).strip() == streamed.text == whole.text
    assert (streamed.prompt_tokens, streamed.completion_tokens) == (whole.prompt_tokens, whole.completion_tokens)
