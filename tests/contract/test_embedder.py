"""One contract for every ``Embedder`` adapter: the local all-MiniLM-L6-v2, Gemini's (its
real SDK against a loopback fake), and the ``openai`` embedder against a second botgpt
process (which embeds with MiniLM) and, when ``OPENAI_COMPAT_BASE_URL`` names one, against an
external OpenAI-compatible server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import numpy as np
import pytest
import pytest_asyncio

from botgpt.adapters.gemini import GeminiEmbedder
from botgpt.adapters.gemini import make_client as gemini_client
from botgpt.adapters.openai_chat import make_client as openai_client
from botgpt.adapters.openai_embedder import OpenAIEmbedder
from botgpt.adapters.resilience import RetryPolicy
from botgpt.adapters.st_embedder import SentenceTransformerEmbedder, bundled_minilm_path
from botgpt.domain.errors import EmbedderError
from botgpt.domain.model import Vector
from botgpt.ports.ai import Embedder
from tests.loopback import LoopbackProvider, Reply
from tests.openai_peer import PEER_DIMENSION, PEER_EMBED_MODEL, external_peer

pytestmark = pytest.mark.asyncio(loop_scope="module")
FAST = RetryPolicy(attempts=2, base_seconds=0.01, cap_seconds=0.05, timeout_seconds=30.0)
TEXTS = ["The keeper lived in the lighthouse tower.", "Rye flour makes a dense bread.", "Ships steer by its light."]
# The fake Gemini's vectors mean nothing; the others must place related texts closer.
SEMANTIC = {"local", "openai_botgpt", "openai_external"}


@pytest.fixture(scope="module")
def gemini_fake() -> Iterator[LoopbackProvider]:
    with LoopbackProvider().running() as server:
        server.default(":batchEmbedContents", _gemini_by_text)
        yield server


def _gemini_by_text(body: dict[str, Any]) -> Reply:
    """Vectors that depend on each text alone, as a real model's do (and mean nothing else)."""
    texts = [request["content"]["parts"][0]["text"] for request in body["requests"]]
    return Reply(json_body={"embeddings": [{"values": [(len(t) % 7 + 1) / 7, ord(t[0]) / 128] * 4} for t in texts]})


async def external_embedder() -> OpenAIEmbedder:
    peer = external_peer()
    client = openai_client(peer.base_url, peer.api_key, 120.0)
    dimension = peer.embed_dimension
    if dimension is None:  # not given: learn it, as a user reads it off the server's documentation
        probe = await client.embeddings.create(model=peer.embed_model, input=["probe"], encoding_format="float")
        dimension = len(probe.data[0].embedding)
    return OpenAIEmbedder(client, peer.embed_model, dimension, RetryPolicy(attempts=2, timeout_seconds=120))


@pytest_asyncio.fixture(
    scope="module", loop_scope="module", params=["local", "gemini", "openai_botgpt", "openai_external"]
)
async def embedder(request: pytest.FixtureRequest, gemini_fake: LoopbackProvider) -> AsyncIterator[Embedder]:
    model: Any
    if request.param == "local":
        model = SentenceTransformerEmbedder(bundled_minilm_path())
        await model.load()
    elif request.param == "gemini":
        model = GeminiEmbedder(gemini_client("k", gemini_fake.url, 5.0), "text-embedding-004", 8, FAST)
    elif request.param == "openai_botgpt":
        client = openai_client(request.getfixturevalue("botgpt_peer_url"), "", 30.0)
        # A batch of 2, so that the contract's three texts take two requests.
        model = OpenAIEmbedder(client, PEER_EMBED_MODEL, PEER_DIMENSION, FAST, batch_size=2)
    else:
        model = await external_embedder()
    yield model
    close = getattr(model, "close", None)
    if close is not None:
        await close()


@pytest.fixture
def semantic(request: pytest.FixtureRequest) -> bool:
    return request.node.callspec.params.get("embedder") in SEMANTIC


def as_array(vector: Vector) -> Any:
    return np.asarray(vector, dtype=np.float32)


async def test_it_names_its_vector_space(embedder: Embedder) -> None:
    assert embedder.name and embedder.dimension > 0


async def test_one_vector_per_text_in_order_each_of_the_dimension(embedder: Embedder) -> None:
    vectors = await embedder.embed(TEXTS)
    assert len(vectors) == len(TEXTS)
    assert all(len(vector) == embedder.dimension for vector in vectors)
    # In order: each text alone gets the vector it got in the batch.
    for text, vector in zip(TEXTS, vectors, strict=True):
        [alone] = await embedder.embed([text])
        assert as_array(alone) == pytest.approx(as_array(vector), abs=1e-4)


async def test_no_texts_give_no_vectors(embedder: Embedder) -> None:
    assert await embedder.embed([]) == []


async def test_related_texts_are_closer(embedder: Embedder, semantic: bool) -> None:
    if not semantic:
        pytest.skip("the fake server's vectors carry no meaning")
    query, near, far = (as_array(v) for v in await embedder.embed(["Who kept the lighthouse?", *TEXTS[:2]]))

    def cosine(a: Any, b: Any) -> float:
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

    assert cosine(query, near) > cosine(query, far)


async def test_the_botgpt_peer_gives_the_local_embedders_vectors(botgpt_peer_url: str) -> None:
    """The peer embeds with MiniLM: through the ``openai`` embedder, its vectors are the local ones."""
    local = SentenceTransformerEmbedder(bundled_minilm_path())
    await local.load()
    remote = OpenAIEmbedder(openai_client(botgpt_peer_url, "", 30.0), PEER_EMBED_MODEL, PEER_DIMENSION, FAST)
    try:
        for mine, theirs in zip(await local.embed(TEXTS), await remote.embed(TEXTS), strict=True):
            assert as_array(theirs) == pytest.approx(as_array(mine), abs=1e-5)
    finally:
        await local.close()
        await remote.close()


async def test_a_wrong_declared_dimension_is_refused_by_name(botgpt_peer_url: str) -> None:
    wrong = OpenAIEmbedder(openai_client(botgpt_peer_url, "", 30.0), PEER_EMBED_MODEL, 768, FAST)
    with pytest.raises(EmbedderError, match=r"384-dimensional.*BOTGPT_OPENAI_EMBED_DIMENSION=384"):
        await wrong.embed(["a"])
    await wrong.close()
