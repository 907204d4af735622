"""One contract for every ``ChatModel`` adapter: the local engine (a real engine process,
echoing), Groq and Gemini (their real SDKs against a loopback server that echoes), and the
``openai`` provider against a second botgpt process (echo engine) and, when
``OPENAI_COMPAT_BASE_URL`` names one, against an external OpenAI-compatible server.

The real local model runs the same checks in ``tests/e2e/test_llama_engine.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from botgpt.adapters.gemini import GeminiChatModel, make_client
from botgpt.adapters.groq_chat import GroqChatModel
from botgpt.adapters.openai_chat import OpenAIChatModel
from botgpt.adapters.openai_chat import make_client as openai_client
from botgpt.adapters.resilience import RetryPolicy
from botgpt.domain.model import ChatMessage, GenerationOptions, Role
from botgpt.plugins import testkit
from botgpt.plugins.builtin.local_chat import build_llama_cpp
from botgpt.plugins.hookspecs import PluginContext
from botgpt.ports.chat import ChatModel
from tests.fakes import WordCounter
from tests.loopback import LoopbackProvider, Reply, capped, gemini_events, groq_events
from tests.openai_peer import external_peer

pytestmark = pytest.mark.asyncio(loop_scope="module")
FAST = RetryPolicy(attempts=2, base_seconds=0.01, cap_seconds=0.05, timeout_seconds=5.0)
PROMPT = [ChatMessage(Role.SYSTEM, "Be brief."), ChatMessage(Role.USER, "Name a colour please")]


@pytest.fixture(scope="module")
def provider() -> Iterator[LoopbackProvider]:
    with LoopbackProvider().running() as server:
        server.default("/chat/completions", _groq_echo)
        server.default(":streamGenerateContent", _gemini_echo)
        yield server


def _groq_echo(body: dict[str, Any]) -> Reply:
    text, cut = capped("echo: " + body["messages"][-1]["content"], body.get("max_tokens"))
    return Reply(events=groq_events(text, finish="length" if cut else "stop"))


def _gemini_echo(body: dict[str, Any]) -> Reply:
    limit = body.get("generationConfig", {}).get("maxOutputTokens")
    text, cut = capped("echo: " + body["contents"][-1]["parts"][0]["text"], limit)
    return Reply(events=gemini_events(text, finish="MAX_TOKENS" if cut else "STOP"))


async def local_engine() -> Any:
    model = build_llama_cpp(PluginContext({"engine_factory": "botgpt.adapters.echo_engine:build", "llama_n_ctx": 2048}))
    await model.load()
    deadline = time.monotonic() + 30
    while await model.readiness() != "ok":
        assert time.monotonic() < deadline, "the engine never became ready"
        await asyncio.sleep(0.05)
    return model


def openai_model(
    base_url: str, model: str = "botgpt", api_key: str = "", policy: RetryPolicy = FAST
) -> OpenAIChatModel:
    client = openai_client(base_url, api_key, policy.timeout_seconds)
    return OpenAIChatModel(client, model, 8192, policy, WordCounter())


@pytest_asyncio.fixture(
    scope="module",
    loop_scope="module",
    params=["local_engine", "groq", "gemini", "openai_botgpt", "openai_external"],
)
async def chat_model(
    request: pytest.FixtureRequest, provider: LoopbackProvider, monkeypatch_module: pytest.MonkeyPatch
) -> AsyncIterator[ChatModel]:
    if request.param == "local_engine":
        model = await local_engine()
        yield model
        await model.close()
    elif request.param == "groq":
        monkeypatch_module.setenv("GROQ_BASE_URL", provider.url)
        yield GroqChatModel(api_key="k", model="llama-3.3-70b-versatile", context_window=8192, policy=FAST)
    elif request.param == "gemini":
        yield GeminiChatModel(make_client("k", provider.url, FAST.timeout_seconds), "gemini-2.0-flash", 32768, FAST)
    elif request.param == "openai_botgpt":
        # A second botgpt process, as any OpenAI-compatible server; its echo engine answers.
        remote = openai_model(request.getfixturevalue("botgpt_peer_url"))
        yield remote
        await remote.close()
    else:
        peer = external_peer()
        # A real model is slower than a loopback: give it a real model's timeout.
        remote = openai_model(peer.base_url, peer.model, peer.api_key, RetryPolicy(attempts=2, timeout_seconds=120))
        yield remote
        await remote.close()


@pytest.fixture
def expected(request: pytest.FixtureRequest) -> str | None:
    """The known answer to the kit's prompt: the echo; unknown for an external model."""
    return None if request.node.callspec.params.get("chat_model") == "openai_external" else ECHO


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


ECHO = "echo: Name a colour please"


async def test_it_has_a_name_and_a_context_window(chat_model: ChatModel) -> None:
    await testkit.check_identity(chat_model)


@pytest.mark.parametrize("check", testkit.CHAT_CHECKS + testkit.OPTION_CHECKS, ids=lambda check: check.__name__)
async def test_the_kit_checks_pass(chat_model: ChatModel, expected: str | None, check: Any) -> None:
    """The same checks a third-party provider runs with ``ChatModelContract``."""
    await check(chat_model, expected)


async def test_the_stream_comes_in_several_pieces(chat_model: ChatModel) -> None:
    events = [event async for event in chat_model.stream(PROMPT, GenerationOptions(max_tokens=32, temperature=0.0))]
    assert len(events) > 2


SAMPLED = GenerationOptions(max_tokens=7, temperature=0.7, top_p=0.9, seed=42, stop=("zzz", "qqq"))


@pytest.mark.parametrize("kind", ["groq", "gemini", "openai"])
async def test_remote_requests_carry_every_option(kind: str, provider: LoopbackProvider) -> None:
    """The SDKs send the options in each provider's own names."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GROQ_BASE_URL", provider.url)
        model: ChatModel
        if kind == "groq":
            model = GroqChatModel(api_key="k", model="llama-3.3-70b-versatile", context_window=8192, policy=FAST)
        elif kind == "gemini":
            model = GeminiChatModel(
                make_client("k", provider.url, FAST.timeout_seconds), "gemini-2.0-flash", 32768, FAST
            )
        else:
            model = openai_model(f"{provider.url}/v1")
        before = len(provider.requests)
        await model.complete(PROMPT, SAMPLED)
        [body] = [seen.body for seen in provider.requests[before:]]
    if kind in ("groq", "openai"):
        sent = {name: body.get(name) for name in ("max_tokens", "temperature", "top_p", "seed", "stop")}
        assert sent == {"max_tokens": 7, "temperature": 0.7, "top_p": 0.9, "seed": 42, "stop": ["zzz", "qqq"]}
    else:
        config = body["generationConfig"]
        sent = {name: config.get(name) for name in ("maxOutputTokens", "temperature", "topP", "seed", "stopSequences")}
        assert sent == {
            "maxOutputTokens": 7,
            "temperature": 0.7,
            "topP": 0.9,
            "seed": 42,
            "stopSequences": ["zzz", "qqq"],
        }


@pytest.mark.parametrize("kind", ["groq", "openai"])
async def test_unset_options_are_left_to_the_server(
    kind: str, provider: LoopbackProvider, monkeypatch_module: pytest.MonkeyPatch
) -> None:
    monkeypatch_module.setenv("GROQ_BASE_URL", provider.url)
    model: ChatModel = (
        GroqChatModel(api_key="k", model="llama-3.3-70b-versatile", context_window=8192, policy=FAST)
        if kind == "groq"
        else openai_model(f"{provider.url}/v1")
    )
    before = len(provider.requests)
    await model.complete(PROMPT, GenerationOptions(max_tokens=9))
    [body] = [seen.body for seen in provider.requests[before:]]
    assert not {"top_p", "seed", "stop"} & set(body)
