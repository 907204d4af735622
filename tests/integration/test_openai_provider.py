"""The ``openai`` chat provider and embedder through the real openai SDK, against a loopback
server with injected faults: what the retry policy and the fallback chain see."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from botgpt.adapters.memory_store import MemoryConversationStore
from botgpt.adapters.openai_chat import OpenAIChatModel, make_client
from botgpt.adapters.openai_embedder import OpenAIEmbedder
from botgpt.adapters.resilience import RetryPolicy
from botgpt.adapters.tiktoken_tokens import TiktokenCounter
from botgpt.domain.conversations import ConversationService
from botgpt.domain.errors import EmbedderError, ModelFailed, ModelUnavailable
from botgpt.domain.fallback import FallbackChatModel
from botgpt.domain.model import ChatMessage, Completion, FinishReason, GenerationOptions, Role
from botgpt.entrypoints import resources
from botgpt.entrypoints.settings import Settings, SettingsError
from botgpt.plugins.builtin.openai_providers import build_openai_chat, build_openai_embedder
from botgpt.plugins.hookspecs import PluginContext
from botgpt.plugins.manager import plugin_manager
from tests.fakes import ScriptedChatModel, WordCounter
from tests.loopback import LoopbackProvider, Reply, openai_embeddings, openai_events

FAST = RetryPolicy(attempts=3, base_seconds=0.01, cap_seconds=0.05, timeout_seconds=2.0)
PROMPT = [ChatMessage(Role.SYSTEM, "Be brief."), ChatMessage(Role.USER, "Name a colour.")]
CHAT = "/v1/chat/completions"
EMBED = "/v1/embeddings"
ERROR = {"error": {"message": "nope", "type": "error"}}


@pytest.fixture
def provider() -> Iterator[LoopbackProvider]:
    with LoopbackProvider().running() as server:
        yield server


@pytest.fixture
async def model(provider: LoopbackProvider) -> AsyncIterator[OpenAIChatModel]:
    chat = OpenAIChatModel(make_client(f"{provider.url}/v1", "", 2.0), "served-model", 8192, FAST, TiktokenCounter())
    yield chat
    await chat.close()


@pytest.fixture
async def embedders(provider: LoopbackProvider) -> AsyncIterator[Callable[..., OpenAIEmbedder]]:
    """Makes embedders on the loopback server, and closes them after the test."""
    made: list[OpenAIEmbedder] = []

    def make(dimension: int = 4, batch_size: int = 64) -> OpenAIEmbedder:
        client = make_client(f"{provider.url}/v1", "sk-test", 2.0)
        made.append(OpenAIEmbedder(client, "served-embedder", dimension, FAST, batch_size=batch_size))
        return made[-1]

    yield make
    for embedder in made:
        await embedder.close()


async def complete(model: Any, options: GenerationOptions | None = None) -> Completion:
    completion: Completion = await model.complete(PROMPT, options or GenerationOptions(max_tokens=32))
    return completion


# --- chat ---------------------------------------------------------------------------------


async def test_an_answer_streams_with_the_usage_of_its_last_chunk(
    provider: LoopbackProvider, model: OpenAIChatModel
) -> None:
    provider.script(CHAT, Reply(events=openai_events("Teal, mostly.")))
    completion = await complete(model)
    assert (completion.text, completion.model) == ("Teal, mostly.", "served-model")
    assert (completion.prompt_tokens, completion.completion_tokens) == (11, 2)
    [seen] = provider.requests
    assert seen.body["stream"] is True and seen.body["stream_options"] == {"include_usage": True}
    assert seen.body["model"] == "served-model"
    assert seen.body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Name a colour."},
    ]
    # No key configured: a placeholder, since the SDK (and some servers) insist on one.
    assert seen.headers["authorization"] == "Bearer no-key"


async def test_a_server_without_usage_has_its_tokens_counted(
    provider: LoopbackProvider, model: OpenAIChatModel
) -> None:
    provider.script(CHAT, Reply(events=openai_events("Crimson and gold.", usage=False)))
    completion = await complete(model)
    counter = TiktokenCounter()
    assert completion.prompt_tokens == sum(counter.count(m.content) for m in PROMPT)
    assert completion.completion_tokens == counter.count("Crimson and gold.")


async def test_an_answer_cut_at_max_tokens_finishes_with_length(
    provider: LoopbackProvider, model: OpenAIChatModel
) -> None:
    provider.script(CHAT, Reply(events=openai_events("Red", finish="length")))
    assert (await complete(model)).finish_reason is FinishReason.LENGTH


async def test_429_honours_retry_after(provider: LoopbackProvider, model: OpenAIChatModel) -> None:
    provider.script(
        CHAT,
        Reply(status=429, json_body=ERROR, headers={"Retry-After": "1"}),
        Reply(events=openai_events("Red.")),
    )
    started = time.monotonic()
    assert (await complete(model)).text == "Red."
    assert time.monotonic() - started >= 1.0
    assert provider.count(CHAT) == 2


async def test_500_then_success(provider: LoopbackProvider, model: OpenAIChatModel) -> None:
    provider.script(CHAT, Reply(status=500, json_body=ERROR), Reply(events=openai_events("Blue.")))
    assert (await complete(model)).text == "Blue."
    assert provider.count(CHAT) == 2


async def test_a_persistent_5xx_is_unavailable_with_retry_after(
    provider: LoopbackProvider, model: OpenAIChatModel
) -> None:
    provider.default(CHAT, Reply(status=503, json_body=ERROR, headers={"Retry-After": "0"}))
    with pytest.raises(ModelUnavailable, match=r"127\.0\.0\.1:\d+ answered 503") as raised:
        await complete(model)
    assert raised.value.retry_after == 0
    assert provider.count(CHAT) == FAST.attempts


async def test_a_rejected_key_is_not_retried(provider: LoopbackProvider, model: OpenAIChatModel) -> None:
    provider.default(CHAT, Reply(status=401, json_body={"error": {"message": "invalid api key"}}))
    with pytest.raises(ModelFailed, match="rejected"):
        await complete(model)
    assert provider.count(CHAT) == 1


async def test_a_dropped_connection_is_unavailable_and_retried(
    provider: LoopbackProvider, model: OpenAIChatModel
) -> None:
    # Chunked and cut: the body ends mid-stream, as when the server dies.
    provider.default(CHAT, Reply(events=openai_events("A long answer that will be cut"), cut_after=3, chunked=True))
    with pytest.raises(ModelUnavailable, match="could not be reached"):
        await complete(model)
    assert provider.count(CHAT) == FAST.attempts


async def test_a_stream_that_ends_early_is_never_a_completion(
    provider: LoopbackProvider, model: OpenAIChatModel
) -> None:
    provider.script(
        CHAT, Reply(events=openai_events("cut here please"), cut_after=2), Reply(events=openai_events("Whole."))
    )
    assert (await complete(model)).text == "Whole."  # the cut attempt was retried, not kept


async def test_a_stream_dropped_after_its_first_words_raises_and_completes_nothing(
    provider: LoopbackProvider, model: OpenAIChatModel
) -> None:
    provider.default(CHAT, Reply(events=openai_events("one two three four five"), cut_after=3, chunked=True))
    seen: list[str | Completion] = []
    with pytest.raises(ModelUnavailable):
        async for event in model.stream(PROMPT, GenerationOptions(max_tokens=32)):
            seen.append(event)
    assert seen and not any(isinstance(event, Completion) for event in seen)
    assert provider.count(CHAT) == 1  # text was already passed on: no retry repeats it


async def test_an_error_event_mid_stream_is_unavailable(provider: LoopbackProvider, model: OpenAIChatModel) -> None:
    events = [*openai_events("Half")[:2], {"error": {"message": "engine crashed"}}]
    provider.default(CHAT, Reply(events=events))
    with pytest.raises(ModelUnavailable, match="error mid-answer"):
        await complete(model)


async def test_a_dropped_stream_stores_no_answer(provider: LoopbackProvider, model: OpenAIChatModel) -> None:
    store = MemoryConversationStore()
    service = ConversationService(store=store, chat=model, tokens=WordCounter())
    provider.default(CHAT, Reply(events=openai_events("Half an answer"), cut_after=2, chunked=True))
    with pytest.raises(ModelUnavailable):
        await service.start("alice", "hello")
    assert await store.count_conversations("alice") == 0


async def test_the_fallback_chain_answers_when_the_server_cannot(
    provider: LoopbackProvider, model: OpenAIChatModel
) -> None:
    provider.default(CHAT, Reply(status=502, json_body=ERROR))
    store = MemoryConversationStore()
    chain = FallbackChatModel([model, ScriptedChatModel(answers=["Local answer."])])
    turn = await ConversationService(store=store, chat=chain, tokens=WordCounter()).start("alice", "hello")
    assert (turn.assistant_message.content, turn.assistant_message.model) == ("Local answer.", "scripted")


async def test_the_key_and_extra_headers_are_sent(provider: LoopbackProvider) -> None:
    client = make_client(f"{provider.url}/v1", "sk-real", 2.0, {"X-User-Id": "team-a", "OpenAI-Organization": "org"})
    chat = OpenAIChatModel(client, "served-model", 8192, FAST)
    provider.script(CHAT, Reply(events=openai_events("Hi.")))
    await complete(chat)
    headers = provider.requests[0].headers
    assert (headers["authorization"], headers["x-user-id"], headers["openai-organization"]) == (
        "Bearer sk-real",
        "team-a",
        "org",
    )
    await chat.close()


# --- embeddings ---------------------------------------------------------------------------


async def test_embeddings_go_in_batches_as_floats_in_input_order(
    provider: LoopbackProvider, embedders: Callable[..., OpenAIEmbedder]
) -> None:
    provider.default(EMBED, lambda body: Reply(json_body=openai_embeddings(body["input"], 4)))
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    vectors = await embedders(batch_size=2).embed(texts)
    assert [len(seen.body["input"]) for seen in provider.requests] == [2, 2, 1]
    assert all(seen.body["encoding_format"] == "float" for seen in provider.requests)
    assert all(seen.body["model"] == "served-embedder" for seen in provider.requests)
    # The server lists them in reverse; each is placed by its index (the fake's value says which).
    batch_index = [0, 1, 0, 1, 0]
    assert [v[0] for v in vectors] == pytest.approx(
        [len(t) % 7 / 7 + i for t, i in zip(texts, batch_index, strict=True)]
    )
    assert all(len(v) == 4 for v in vectors)


async def test_no_texts_make_no_request(provider: LoopbackProvider, embedders: Callable[..., OpenAIEmbedder]) -> None:
    assert await embedders().embed([]) == []
    assert provider.requests == []


async def test_a_dimension_other_than_the_declared_one_is_a_clear_permanent_error(
    provider: LoopbackProvider, embedders: Callable[..., OpenAIEmbedder]
) -> None:
    provider.default(EMBED, lambda body: Reply(json_body=openai_embeddings(body["input"], 384)))
    with pytest.raises(EmbedderError, match=r"384-dimensional.*is 768.*BOTGPT_OPENAI_EMBED_DIMENSION=384") as raised:
        await embedders(dimension=768).embed(["a"])
    assert raised.value.transient is False
    assert provider.count(EMBED) == 1  # a configuration error: not retried


async def test_embedding_429_is_retried(provider: LoopbackProvider, embedders: Callable[..., OpenAIEmbedder]) -> None:
    provider.script(EMBED, Reply(status=429, json_body=ERROR, headers={"Retry-After": "0"}))
    provider.default(EMBED, lambda body: Reply(json_body=openai_embeddings(body["input"], 4)))
    assert len(await embedders().embed(["a", "b"])) == 2
    assert provider.count(EMBED) == 2


async def test_embedding_errors_say_whether_to_retry(
    provider: LoopbackProvider, embedders: Callable[..., OpenAIEmbedder]
) -> None:
    model = embedders()
    provider.default(EMBED, Reply(status=401, json_body=ERROR))
    with pytest.raises(EmbedderError, match="rejected") as rejected:
        await model.embed(["a"])
    assert rejected.value.transient is False
    provider.default(EMBED, Reply(status=500, json_body=ERROR))
    with pytest.raises(EmbedderError) as unavailable:
        await model.embed(["a"])
    assert unavailable.value.transient is True
    provider.default(EMBED, lambda body: Reply(json_body=openai_embeddings(body["input"][:-1], 4)))
    with pytest.raises(EmbedderError, match="1 embeddings for 2 texts") as short:
        await model.embed(["a", "b"])
    assert short.value.transient is True


async def test_the_name_changes_with_the_model_and_the_dimension(provider: LoopbackProvider) -> None:
    client = make_client(f"{provider.url}/v1", "", 2.0)
    names = {
        OpenAIEmbedder(client, model, dimension, FAST).name
        for model, dimension in [("m1", 384), ("m1", 768), ("m2", 384)]
    }
    assert len(names) == 3 and all(name.startswith("openai/") for name in names)
    await client.close()


# --- configuration ------------------------------------------------------------------------


def configured(**environ: str) -> dict[str, Any]:
    return Settings.load(environ=environ).as_dict()


async def test_settings_and_the_services_own_variables_configure_both(provider: LoopbackProvider) -> None:
    config = configured(
        OPENAI_BASE_URL=f"{provider.url}/v1",
        OPENAI_API_KEY="sk-from-env",
        BOTGPT_OPENAI_CHAT_MODEL="served-model",
        BOTGPT_OPENAI_EXTRA_HEADERS='{"X-User-Id": "team-a"}',
        BOTGPT_OPENAI_EMBED_MODEL="served-embedder",
        BOTGPT_OPENAI_EMBED_DIMENSION="4",
        BOTGPT_OPENAI_EMBED_BATCH_SIZE="3",
    )
    provider.script(CHAT, Reply(events=openai_events("Configured.")))
    provider.default(EMBED, lambda body: Reply(json_body=openai_embeddings(body["input"], 4)))
    chat, vectors = build_openai_chat(PluginContext(config)), build_openai_embedder(PluginContext(config))
    assert (await complete(chat)).text == "Configured."
    assert len(await vectors.embed(["a", "b", "c", "d"])) == 4
    assert vectors.name == "openai/served-embedder@4" and vectors.dimension == 4
    assert [len(seen.body["input"]) for seen in provider.requests[1:]] == [3, 1]
    for seen in provider.requests:
        assert (seen.headers["authorization"], seen.headers["x-user-id"]) == ("Bearer sk-from-env", "team-a")
    await chat.close()
    await vectors.close()


async def test_the_embedder_may_have_its_own_server(provider: LoopbackProvider) -> None:
    config = configured(
        BOTGPT_OPENAI_BASE_URL="http://127.0.0.1:9/v1",  # nothing listens there
        BOTGPT_OPENAI_EMBED_BASE_URL=f"{provider.url}/v1",
        BOTGPT_OPENAI_EMBED_DIMENSION="4",
    )
    provider.default(EMBED, lambda body: Reply(json_body=openai_embeddings(body["input"], 4)))
    embedder = build_openai_embedder(PluginContext(config))
    assert len(await embedder.embed(["a"])) == 1
    await embedder.close()


LOCAL = {"BOTGPT_OPENAI_BASE_URL": "http://localhost:8000/v1"}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"BOTGPT_OPENAI_EXTRA_HEADERS": "X-Team: a", **LOCAL}, "openai_extra_headers must be a JSON object"),
        ({"BOTGPT_OPENAI_EXTRA_HEADERS": '{"X-Team": 3}', **LOCAL}, "JSON object of strings"),
        ({"BOTGPT_OPENAI_BASE_URL": "localhost:8000"}, "openai_base_url must be an http"),
        ({}, "needs OPENAI_API_KEY"),  # OpenAI itself, and no key
    ],
)
async def test_unusable_settings_stop_start_up_with_a_message(environ: dict[str, str], message: str) -> None:
    config = configured(BOTGPT_CHAT_PROVIDER="openai", **environ)
    with pytest.raises(SettingsError, match=message):
        await anext(resources.chat_model(plugin_manager(), config))
