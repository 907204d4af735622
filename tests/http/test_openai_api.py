"""The OpenAI-compatible API, driven by the official openai SDK."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import httpx
import openai
import pytest

from botgpt.domain.errors import ModelUnavailable
from botgpt.domain.keys import KeyService
from botgpt.entrypoints.container import Container
from botgpt.entrypoints.core import provided
from tests.fakes import ScriptedChatModel

TEXT = b"The Fresnel lens focused the lighthouse beam. Keepers trimmed the wicks every evening."


@pytest.fixture
def chat() -> ScriptedChatModel:
    return ScriptedChatModel(answers=["Blue is calm [1]."] * 10)


@pytest.fixture
async def secret(container: Container, live_server: str) -> str:
    keys: KeyService = await provided(container.keys)
    return (await keys.create("alice")).secret


@pytest.fixture
async def client(live_server: str, secret: str) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=f"{live_server}/v1", api_key=secret, max_retries=0) as sdk:
        yield sdk


MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "A calm colour?"}]


async def test_models(client: openai.AsyncOpenAI) -> None:
    models = await client.models.list()
    assert [m.id for m in models.data] == ["scripted", "hashing"]  # the chat model, then the embedder


async def test_a_completion(client: openai.AsyncOpenAI, chat: ScriptedChatModel) -> None:
    completion = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # type: ignore[arg-type]
    assert completion.choices[0].message.content == "Blue is calm [1]."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "scripted"
    assert completion.usage is not None and completion.usage.total_tokens > 0
    assert chat.prompts[-1][0].content == "Be brief."  # the client's system message is used
    assert (completion.model_extra or {})["botgpt"]["stored"] is False


async def test_a_streamed_completion(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(model="botgpt", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    pieces, finishes = [], []
    async for chunk in stream:
        pieces.append(chunk.choices[0].delta.content or "")
        finishes.append(chunk.choices[0].finish_reason)
    assert "".join(pieces) == "Blue is calm [1]."
    assert finishes[-1] == "stop"


async def test_attaching_a_conversation_stores_the_turn(
    client: openai.AsyncOpenAI, live_server: str, secret: str
) -> None:
    auth = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(base_url=live_server, headers=auth) as http:
        cid = (await http.post("/api/v1/conversations", json={"message": "hi"})).json()["conversation_id"]
        completion = await client.chat.completions.create(
            model="botgpt",
            messages=[{"role": "user", "content": "and then?"}],
            extra_body={"botgpt": {"conversation_id": cid}},
        )
        assert (completion.model_extra or {})["botgpt"]["conversation_id"] == cid
        messages = (await http.get(f"/api/v1/conversations/{cid}")).json()["messages"]
    assert [m["content"] for m in messages][2:] == ["and then?", "Blue is calm [1]."]


async def test_grounding_in_documents(client: openai.AsyncOpenAI, live_server: str, secret: str) -> None:
    async with httpx.AsyncClient(base_url=live_server, headers={"Authorization": f"Bearer {secret}"}) as http:
        document_id = (await http.post("/api/v1/documents", files={"file": ("l.txt", io.BytesIO(TEXT))})).json()["id"]
        for _ in range(200):
            if (await http.get(f"/api/v1/documents/{document_id}")).json()["status"] == "ready":
                break
            await asyncio.sleep(0.02)
    completion = await client.chat.completions.create(
        model="botgpt", messages=[{"role": "user", "content": "What focused the beam?"}],
        extra_body={"botgpt": {"document_ids": [document_id]}},
    )  # fmt: skip
    citations = (completion.model_extra or {})["botgpt"]["citations"]
    assert citations and citations[0]["document_id"] == document_id and "Fresnel" in citations[0]["snippet"]
    assert isinstance(citations[0]["supported"], bool) and 0 <= citations[0]["support"] <= 1


async def test_errors_surface_as_sdk_exceptions(
    client: openai.AsyncOpenAI, live_server: str, container: Container
) -> None:
    async with openai.AsyncOpenAI(base_url=f"{live_server}/v1", api_key="bgpt_wrong_key", max_retries=0) as stranger:
        with pytest.raises(openai.AuthenticationError):
            await stranger.models.list()
    keys: KeyService = await provided(container.keys)
    bob = (await keys.create("bob")).secret
    async with httpx.AsyncClient(base_url=live_server, headers={"Authorization": f"Bearer {bob}"}) as http:
        bobs = (await http.post("/api/v1/conversations", json={"message": "mine"})).json()["conversation_id"]
    with pytest.raises(openai.NotFoundError):
        await client.chat.completions.create(
            model="botgpt",
            messages=[{"role": "user", "content": "x"}],
            extra_body={"botgpt": {"conversation_id": bobs}},
        )
    with pytest.raises(openai.UnprocessableEntityError):
        await client.chat.completions.create(model="botgpt", messages=[{"role": "assistant", "content": "x"}])


LONG = "One two three four five six seven eight nine ten. Eleven twelve."


async def test_max_tokens_cuts_the_answer_and_says_length(client: openai.AsyncOpenAI, chat: ScriptedChatModel) -> None:
    chat.answer_next(LONG, LONG)
    whole = await client.chat.completions.create(model="botgpt", messages=MESSAGES, max_tokens=5)  # type: ignore[arg-type]
    assert whole.choices[0].finish_reason == "length"
    assert whole.choices[0].message.content == "One two three four five"
    stream = await client.chat.completions.create(
        model="botgpt",
        messages=MESSAGES,  # type: ignore[arg-type]
        max_completion_tokens=5,
        stream=True,
    )
    chunks = [chunk async for chunk in stream]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "One two three four five"
    assert chunks[-1].choices[0].finish_reason == "length"
    assert [o.max_tokens for o in chat.options[-2:]] == [5, 5]


async def test_max_tokens_is_capped_by_the_server(client: openai.AsyncOpenAI, chat: ScriptedChatModel) -> None:
    await client.chat.completions.create(model="botgpt", messages=MESSAGES, max_tokens=100_000)  # type: ignore[arg-type]
    assert chat.options[-1].max_tokens == 256  # the policy's max_answer_tokens


async def test_a_stop_sequence_cuts_the_answer(client: openai.AsyncOpenAI, chat: ScriptedChatModel) -> None:
    chat.answer_next(LONG, LONG)
    whole = await client.chat.completions.create(model="botgpt", messages=MESSAGES, stop=["."])  # type: ignore[arg-type]
    assert whole.choices[0].message.content == "One two three four five six seven eight nine ten"
    assert whole.choices[0].finish_reason == "stop"
    stream = await client.chat.completions.create(model="botgpt", messages=MESSAGES, stop=".", stream=True)  # type: ignore[arg-type]
    text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream])
    assert text == "One two three four five six seven eight nine ten"


async def test_sampling_options_reach_the_model(client: openai.AsyncOpenAI, chat: ScriptedChatModel) -> None:
    await client.chat.completions.create(
        model="botgpt",
        messages=MESSAGES,  # type: ignore[arg-type]
        temperature=1.5,
        top_p=0.5,
        seed=7,
        n=1,
        logprobs=False,
    )
    options = chat.options[-1]
    assert (options.temperature, options.top_p, options.seed, options.stop) == (1.5, 0.5, 7, ())


async def test_without_options_the_policy_samples(client: openai.AsyncOpenAI, chat: ScriptedChatModel) -> None:
    await client.chat.completions.create(model="botgpt", messages=MESSAGES)  # type: ignore[arg-type]
    options = chat.options[-1]
    assert (options.max_tokens, options.temperature, options.top_p, options.seed) == (256, 0.2, None, None)


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"n": 2}, "n"),
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}, "tools"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"logit_bias": {"50256": -100}}, "logit_bias"),
        ({"presence_penalty": 0.5}, "presence_penalty"),
    ],
)
async def test_options_botgpt_cannot_honour_are_refused(
    client: openai.AsyncOpenAI, chat: ScriptedChatModel, options: dict[str, object], param: str
) -> None:
    for stream in (False, True):
        with pytest.raises(openai.BadRequestError) as raised:
            await client.chat.completions.create(model="botgpt", messages=MESSAGES, stream=stream, **options)  # type: ignore[call-overload]
        assert raised.value.status_code == 400
        assert param in raised.value.message
        assert raised.value.body["param"] == param  # type: ignore[index]
    assert chat.prompts == []  # the model was never asked


async def test_several_refused_options_are_all_named(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        await client.chat.completions.create(model="botgpt", messages=MESSAGES, n=3, logprobs=True)  # type: ignore[arg-type]
    assert "n, logprobs" in raised.value.message


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_completion_tokens": -1}, "max_completion_tokens"),
        ({"temperature": 2.5}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"stop": ""}, "stop"),
        ({"seed": "x"}, "seed"),
    ],
)
async def test_out_of_range_options_name_the_field(
    live_server: str, secret: str, chat: ScriptedChatModel, options: dict[str, object], field: str
) -> None:
    auth = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(base_url=live_server, headers=auth) as http:
        response = await http.post("/v1/chat/completions", json={"messages": MESSAGES, **options})
    assert response.status_code == 422
    error = response.json()["error"]
    assert field in error["message"] and error["request_id"]
    assert chat.prompts == []


async def test_a_cut_answer_is_stored_with_its_finish_reason(
    client: openai.AsyncOpenAI, chat: ScriptedChatModel, live_server: str, secret: str
) -> None:
    auth = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(base_url=live_server, headers=auth) as http:
        cid = (await http.post("/api/v1/conversations", json={"message": "hi"})).json()["conversation_id"]
        chat.answer_next(LONG)
        await client.chat.completions.create(
            model="botgpt",
            messages=[{"role": "user", "content": "and then?"}],
            max_tokens=3,
            extra_body={"botgpt": {"conversation_id": cid}},
        )
        messages = (await http.get(f"/api/v1/conversations/{cid}")).json()["messages"]
    assert [(m["role"], m["finish_reason"]) for m in messages] == [
        ("user", None),
        ("assistant", "stop"),
        ("user", None),
        ("assistant", "length"),
    ]
    assert messages[-1]["content"] == "One two three"


async def test_a_failed_model_call_with_options_stores_nothing(
    client: openai.AsyncOpenAI, chat: ScriptedChatModel, live_server: str, secret: str
) -> None:
    auth = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(base_url=live_server, headers=auth) as http:
        cid = (await http.post("/api/v1/conversations", json={"message": "hi"})).json()["conversation_id"]
        chat.fail_next(ModelUnavailable("busy"))
        with pytest.raises(openai.APIStatusError) as raised:
            await client.chat.completions.create(
                model="botgpt",
                messages=[{"role": "user", "content": "and then?"}],
                max_tokens=3,
                stop=["."],
                extra_body={"botgpt": {"conversation_id": cid}},
            )
        messages = (await http.get(f"/api/v1/conversations/{cid}")).json()["messages"]
    assert raised.value.status_code == 503
    assert len(messages) == 2
