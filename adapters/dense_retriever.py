"""The ``dense`` retriever: cosine similarity over float32 matrices, one per document set."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from botgpt.adapters.chunk_cache import SET_CACHE_SIZE, ChunkCache, Lru, set_key
from botgpt.domain.model import Chunk, Document, ScoredChunk
from botgpt.domain.retrieval import embed_queries
from botgpt.ports.ai import Embedder

Matrix = npt.NDArray[np.float32]


def top_indices(scores: npt.NDArray[Any], k: int) -> npt.NDArray[np.intp]:
    """Indices of the ``k`` largest scores, best first (ties: lower index first)."""
    k = min(k, len(scores))
    if k == 0:
        return np.empty(0, dtype=np.intp)
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return part[np.lexsort((part, -scores[part]))]


@attrs.frozen
class DenseIndex:
    chunks: list[Chunk]
    matrix: Matrix


class DenseRetriever:
    """Cosine similarity: one float32 matrix per document set, one matrix-vector product a query."""

    name = "dense"

    def __init__(self, chunks: ChunkCache, embedder: Embedder) -> None:
        self._chunks = chunks
        self._embedder = embedder
        self._sets: Lru[tuple[tuple[str, str], ...], DenseIndex] = Lru(SET_CACHE_SIZE)

    async def search(self, query: str, documents: Sequence[Document], k: int) -> list[ScoredChunk]:
        index = await self._index(documents)
        if not index.chunks:
            return []
        query_vector = np.frombuffer((await embed_queries(self._embedder, [query]))[0], dtype=np.float32)
        scores = index.matrix @ _normalised(query_vector)
        best = top_indices(scores, k)
        return [ScoredChunk(index.chunks[i], float(scores[i]), ((self.name, r),)) for r, i in enumerate(best, 1)]

    async def _index(self, documents: Sequence[Document]) -> DenseIndex:
        key = set_key(documents)
        index = self._sets.get(key)
        if index is None:
            chunks = [chunk for document in documents for chunk in await self._chunks.of(document)]
            matrix = await asyncio.to_thread(_stack, chunks)
            index = DenseIndex(chunks, matrix)
            self._sets.put(key, index)
        return index

    def forget(self, document_id: str) -> None:
        self._chunks.forget(document_id)
        self._sets.drop_where(lambda key: any(entry[0] == document_id for entry in key))


def _stack(chunks: Sequence[Chunk]) -> Matrix:
    if not chunks:
        return np.zeros((0, 0), dtype=np.float32)
    matrix = np.stack([np.frombuffer(chunk.vector, dtype=np.float32) for chunk in chunks])
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    normalised: Matrix = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
    return normalised


def _normalised(vector: Matrix) -> Matrix:
    return vector / max(float(np.linalg.norm(vector)), 1e-12)
