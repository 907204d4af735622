"""Reciprocal-rank fusion of several retrievers' rankings, and the hybrid strategy built on it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from botgpt.domain.model import Document, ScoredChunk
from botgpt.ports.ai import Retriever

RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[ScoredChunk]],
    k: int,
    rrf_k: int = RRF_K,
    weights: Mapping[str, float] | None = None,
) -> list[ScoredChunk]:
    """Fuse rankings by ``sum(weight / (rrf_k + rank))``; best ``k`` first.

    Each result keeps the rank it had in every ranking that found it, for ``explain``.
    """
    scores: dict[str, float] = {}
    ranks: dict[str, list[tuple[str, int]]] = {}
    chunks = {}
    for name, ranking in rankings.items():
        weight = 1.0 if weights is None else weights.get(name, 1.0)
        for rank, scored in enumerate(ranking, start=1):
            key = scored.chunk.id
            scores[key] = scores.get(key, 0.0) + weight / (rrf_k + rank)
            ranks.setdefault(key, []).append((name, rank))
            chunks[key] = scored.chunk
    best = sorted(scores, key=lambda key: (-scores[key], key))[:k]
    return [ScoredChunk(chunks[key], scores[key], tuple(ranks[key])) for key in best]


class HybridRetriever:
    """Dense and BM25, fused by reciprocal rank over the top ``depth`` of each."""

    name = "hybrid"

    def __init__(
        self,
        parts: Sequence[Retriever],
        depth: int = 100,
        rrf_k: int = 60,
        weights: dict[str, float] | None = None,
    ) -> None:
        self._parts = tuple(parts)
        self._depth, self._rrf_k = depth, rrf_k
        self._weights = weights

    async def search(self, query: str, documents: Sequence[Document], k: int) -> list[ScoredChunk]:
        depth = max(k, self._depth)
        rankings = {part.name: await part.search(query, documents, depth) for part in self._parts}
        return reciprocal_rank_fusion(rankings, k, self._rrf_k, self._weights)

    def forget(self, document_id: str) -> None:
        for part in self._parts:
            part.forget(document_id)
