"""Embeddings from any OpenAI-compatible server's ``POST /v1/embeddings`` (OpenAI, vLLM,
Ollama, llama.cpp's server, another botgpt), through the official openai SDK."""

from __future__ import annotations

import array
from collections.abc import Sequence
from typing import Any

from botgpt.adapters.openai_chat import classifier_for, server_label
from botgpt.adapters.resilience import ProviderUnavailable, RetryPolicy, embedded_in_batches
from botgpt.domain.errors import EmbedderError
from botgpt.domain.model import Vector


class OpenAIEmbedder:
    """An ``Embedder`` on ``POST {base_url}/embeddings``, through ``client`` (``openai_chat.make_client``).

    Texts go in batches of ``batch_size`` per request, as floats (``encoding_format``).
    The dimension is declared, not discovered: it is part of the name, with the model, so
    documents embedded under another model or size answer ``embedder_mismatch`` until
    reindexed; every vector the server returns is checked against it.
    """

    def __init__(self, client: Any, model: str, dimension: int, policy: RetryPolicy, batch_size: int = 64) -> None:
        if dimension < 1 or batch_size < 1:
            raise ValueError("the embedding dimension and batch size must be positive")
        self._client, self._model, self._dimension = client, model, dimension
        self._policy, self._batch_size = policy, batch_size
        self._server = server_label(str(client.base_url))
        self._classify = classifier_for(str(client.base_url))

    @property
    def name(self) -> str:
        return f"openai/{self._model}@{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        return await embedded_in_batches(texts, self._batch_size, self._embed_batch, self._classify, self._policy)

    async def _embed_batch(self, batch: list[str]) -> list[Vector]:
        response = await self._client.embeddings.create(model=self._model, input=batch, encoding_format="float")
        data = sorted(response.data or [], key=lambda item: item.index)
        if len(data) != len(batch):
            raise ProviderUnavailable(f"{self._server} returned {len(data)} embeddings for {len(batch)} texts")
        if not all(isinstance(item.embedding, list) for item in data):
            raise ProviderUnavailable(f"{self._server} sent embeddings that are not lists of floats")
        vectors = [array.array("f", item.embedding) for item in data]
        wrong = next((len(v) for v in vectors if len(v) != self._dimension), None)
        if wrong is not None:
            # A configuration error, not the server's: retrying cannot help.
            raise EmbedderError(
                f"{self._model} at {self._server} returns {wrong}-dimensional vectors, but openai_embed_dimension"
                f" is {self._dimension}: set BOTGPT_OPENAI_EMBED_DIMENSION={wrong} (documents embedded under"
                " another size answer embedder_mismatch until `botgpt reindex`)",
                transient=False,
            )
        return vectors

    async def close(self) -> None:
        await self._client.close()
