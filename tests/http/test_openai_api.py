"""The OpenAI-compatible API, driven by the official openai SDK."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import httpx
import openai
import pytest

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
    assert [m.id for m in models.data] == ["scripted"]


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
