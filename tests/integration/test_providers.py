"""Groq and Gemini through their real SDKs, against a loopback server with injected faults."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from botgpt.adapters.gemini import GeminiChatModel, GeminiEmbedder, make_client
from botgpt.adapters.groq_chat import GroqChatModel
from botgpt.adapters.memory_store import MemoryConversationStore
from botgpt.adapters.resilience import RetryPolicy
from botgpt.domain.conversations import ConversationService
from botgpt.domain.errors import EmbedderError, ModelFailed, ModelUnavailable
from botgpt.domain.fallback import FallbackChatModel
from botgpt.domain.model import ChatMessage, GenerationOptions, Role
from tests.fakes import ScriptedChatModel, WordCounter
from tests.loopback import (
    LoopbackProvider,
    Reply,
    gemini_embeddings,
    gemini_error,
    gemini_events,
    groq_events,
)

FAST = RetryPolicy(attempts=3, base_seconds=0.01, cap_seconds=0.05, timeout_seconds=2.0)
PROMPT = [ChatMessage(Role.SYSTEM, "Be brief."), ChatMessage(Role.USER, "Name a colour.")]
GROQ_PATH = "/openai/v1/chat/completions"
STREAM = ":streamGenerateContent"
EMBED = ":batchEmbedContents"


@pytest.fixture
def provider() -> Iterator[LoopbackProvider]:
    with LoopbackProvider().running() as server:
        yield server


@pytest.fixture
def groq_model(provider: LoopbackProvider, monkeypatch: pytest.MonkeyPatch) -> GroqChatModel:
    # The SDK reads GROQ_BASE_URL itself: the adapter passes no URL.
    monkeypatch.setenv("GROQ_BASE_URL", provider.url)
    return GroqChatModel(api_key="test-key", model="llama-3.3-70b-versatile", context_window=8192, policy=FAST)


def gemini_client(provider: LoopbackProvider) -> Any:
    return make_client("test-key", provider.url, FAST.timeout_seconds)


async def complete(model: Any) -> Any:
    return await model.complete(PROMPT, GenerationOptions(max_tokens=32, temperature=0.0))


# --- Groq ---------------------------------------------------------------------------------


async def test_groq_streams_an_answer_with_usage(provider: LoopbackProvider, groq_model: GroqChatModel) -> None:
    provider.script(GROQ_PATH, Reply(events=groq_events("Teal, mostly.")))
    completion = await complete(groq_model)
    assert (completion.text, completion.model) == ("Teal, mostly.", "llama-3.3-70b-versatile")
    assert (completion.prompt_tokens, completion.completion_tokens) == (12, 2)
    sent = provider.requests[0].body
    assert sent["stream"] is True and sent["messages"][1] == {"role": "user", "content": "Name a colour."}


async def test_groq_429_honours_retry_after(provider: LoopbackProvider, groq_model: GroqChatModel) -> None:
    provider.script(
        GROQ_PATH,
        Reply(status=429, json_body={"error": {"message": "slow down"}}, headers={"Retry-After": "1"}),
        Reply(events=groq_events("Red.")),
    )
    started = time.monotonic()
    assert (await complete(groq_model)).text == "Red."
    assert time.monotonic() - started >= 1.0
    assert provider.count(GROQ_PATH) == 2


async def test_groq_500_is_retried(provider: LoopbackProvider, groq_model: GroqChatModel) -> None:
    provider.script(
        GROQ_PATH,
        Reply(status=500, json_body={"error": {"message": "oops"}}),
        Reply(events=groq_events("Blue.")),
    )
    assert (await complete(groq_model)).text == "Blue."


async def test_groq_persistent_5xx_is_unavailable(provider: LoopbackProvider, groq_model: GroqChatModel) -> None:
    provider.default(
        GROQ_PATH, Reply(status=503, json_body={"error": {"message": "down"}}, headers={"Retry-After": "0"})
    )
    with pytest.raises(ModelUnavailable):
        await complete(groq_model)
    assert provider.count(GROQ_PATH) == FAST.attempts


async def test_groq_rejected_key_is_not_retried(provider: LoopbackProvider, groq_model: GroqChatModel) -> None:
    provider.default(GROQ_PATH, Reply(status=401, json_body={"error": {"message": "invalid api key"}}))
    with pytest.raises(ModelFailed, match="rejected"):
        await complete(groq_model)
    assert provider.count(GROQ_PATH) == 1


async def test_groq_slow_response_times_out(provider: LoopbackProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROQ_BASE_URL", provider.url)
    impatient = RetryPolicy(attempts=2, base_seconds=0.01, timeout_seconds=0.3)
    model = GroqChatModel(api_key="k", model="m", context_window=8192, policy=impatient)
    provider.default(GROQ_PATH, Reply(events=groq_events("Late."), delay=1.0))
    with pytest.raises(ModelUnavailable):
        await complete(model)
    assert provider.count(GROQ_PATH) == 2


async def test_groq_malformed_json_is_retried(provider: LoopbackProvider, groq_model: GroqChatModel) -> None:
    provider.script(GROQ_PATH, Reply(events=["{not json"]), Reply(events=groq_events("Green.")))
    assert (await complete(groq_model)).text == "Green."


async def test_groq_stream_cut_mid_answer_is_never_a_completion(
    provider: LoopbackProvider, groq_model: GroqChatModel
) -> None:
    provider.default(GROQ_PATH, Reply(events=groq_events("A long answer that will be cut"), cut_after=3))
    with pytest.raises(ModelUnavailable, match="ended before"):
        await complete(groq_model)


async def test_a_cut_stream_stores_nothing(provider: LoopbackProvider, groq_model: GroqChatModel) -> None:
    store = MemoryConversationStore()
    service = ConversationService(store=store, chat=groq_model, tokens=WordCounter())
    provider.default(GROQ_PATH, Reply(events=groq_events("Half an answer"), cut_after=2))
    with pytest.raises(ModelUnavailable):
        await service.start("alice", "hello")
    assert await store.count_conversations("alice") == 0


async def test_fallback_names_the_model_that_answered(provider: LoopbackProvider, groq_model: GroqChatModel) -> None:
    provider.default(GROQ_PATH, Reply(status=500, json_body={"error": {"message": "down"}}))
    store = MemoryConversationStore()
    chain = FallbackChatModel([groq_model, ScriptedChatModel(answers=["Local answer."])])
    turn = await ConversationService(store=store, chat=chain, tokens=WordCounter()).start("alice", "hello")
    assert turn.assistant_message.model == "scripted"
    assert (await store.list_messages(turn.conversation.id))[1].model == "scripted"


# --- Gemini -------------------------------------------------------------------------------


async def test_gemini_streams_an_answer(provider: LoopbackProvider) -> None:
    provider.script(STREAM, Reply(events=gemini_events("Violet, I think.")))
    model = GeminiChatModel(gemini_client(provider), "gemini-2.0-flash", 32768, FAST)
    completion = await complete(model)
    assert completion.text == "Violet, I think." and completion.prompt_tokens == 9
    body = provider.requests[0].body
    assert body["systemInstruction"]["parts"][0]["text"] == "Be brief."
    assert body["contents"][0]["role"] == "user"


async def test_gemini_cut_stream_and_errors(provider: LoopbackProvider) -> None:
    model = GeminiChatModel(gemini_client(provider), "gemini-2.0-flash", 32768, FAST)
    provider.script(
        STREAM,
        Reply(events=gemini_events("cut here please"), cut_after=1),
        Reply(events=gemini_events("Whole.")),
    )
    assert (await complete(model)).text == "Whole."
    provider.default(STREAM, Reply(status=403, json_body=gemini_error(403, "PERMISSION_DENIED")))
    with pytest.raises(ModelFailed):
        await complete(model)


async def test_gemini_embeddings_batch_by_100(provider: LoopbackProvider) -> None:
    provider.default(EMBED, lambda body: Reply(json_body=gemini_embeddings(len(body["requests"]), 8)))
    embedder = GeminiEmbedder(gemini_client(provider), "text-embedding-004", 8, FAST)
    vectors = await embedder.embed([f"text {i}" for i in range(250)])
    assert len(vectors) == 250 and all(len(v) == 8 for v in vectors)
    assert [len(seen.body["requests"]) for seen in provider.requests] == [100, 100, 50]


async def test_gemini_embedding_429_then_success(provider: LoopbackProvider) -> None:
    provider.script(
        EMBED,
        Reply(status=429, json_body=gemini_error(429, "RESOURCE_EXHAUSTED"), headers={"Retry-After": "0"}),
    )
    provider.default(EMBED, lambda body: Reply(json_body=gemini_embeddings(len(body["requests"]), 4)))
    embedder = GeminiEmbedder(gemini_client(provider), "text-embedding-004", 4, FAST)
    assert len(await embedder.embed(["a", "b"])) == 2
    assert provider.count(EMBED) == 2


async def test_gemini_embedding_errors_say_whether_to_retry(provider: LoopbackProvider) -> None:
    embedder = GeminiEmbedder(gemini_client(provider), "text-embedding-004", 4, FAST)
    provider.default(EMBED, Reply(status=400, json_body=gemini_error(400, "INVALID_ARGUMENT")))
    with pytest.raises(EmbedderError) as rejected:
        await embedder.embed(["a"])
    assert rejected.value.transient is False
    provider.default(EMBED, Reply(status=500, json_body=gemini_error(500, "INTERNAL")))
    with pytest.raises(EmbedderError) as unavailable:
        await embedder.embed(["a"])
    assert unavailable.value.transient is True
    provider.default(EMBED, Reply(raw=b"<html>gateway</html>"))
    with pytest.raises(EmbedderError):
        await embedder.embed(["a"])
