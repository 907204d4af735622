"""The ``dense`` and ``bm25`` retrievers: thin strategies over the configured chunk index."""

from __future__ import annotations

from botgpt.domain.model import ScoredChunk, SearchScope
from botgpt.domain.retrieval import embed_queries
from botgpt.ports.ai import Embedder
from botgpt.ports.index import ChunkIndex


class DenseRetriever:
    """Cosine similarity between the query's embedding and the chunks' vectors."""

    name = "dense"

    def __init__(self, index: ChunkIndex, embedder: Embedder) -> None:
        self._index = index
        self._embedder = embedder

    async def search(self, query: str, scope: SearchScope, k: int) -> list[ScoredChunk]:
        vector = (await embed_queries(self._embedder, [query]))[0]
        return await self._index.dense(scope, vector, k)


class Bm25Retriever:
    """Okapi BM25 over the chunks' analysed terms."""

    name = "bm25"

    def __init__(self, index: ChunkIndex) -> None:
        self._index = index

    async def search(self, query: str, scope: SearchScope, k: int) -> list[ScoredChunk]:
        return await self._index.lexical(scope, query, k)
