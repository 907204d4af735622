"""Reciprocal-rank fusion of several retrievers' rankings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from botgpt.domain.model import ScoredChunk

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
