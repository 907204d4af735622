"""Fusion of several retrievers' rankings (reciprocal rank, or a convex blend of normalised
scores), and the hybrid strategy built on them. Pure functions over ranked lists."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from botgpt.domain.model import ScoredChunk, SearchScope
from botgpt.ports.ai import Retriever
from botgpt.ports.telemetry import NO_METRICS, NO_TRACER, Metrics, Tracer

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


def convex_fusion(
    rankings: Mapping[str, Sequence[ScoredChunk]],
    k: int,
    weights: Mapping[str, float] | None = None,
    depth: int | None = None,
) -> list[ScoredChunk]:
    """Fuse by ``sum(weight * scaled score)``; best ``k`` first.

    Each ranking's scores are divided by its best one, so scales as unlike as BM25's and
    cosine's blend. A chunk that a ranking cut at ``depth`` did not return scored at most
    that ranking's last score, so it counts as that; a ranking shorter than ``depth`` was
    complete, and its missing chunks count 0. Both keep the fused order of the top chunks
    nearly independent of how deep the rankings were cut, which min-max scaling with
    missing chunks at 0 is not (SciFact train nDCG@10: 0.7294 fusing the top 100 of each,
    0.7362 fusing the top 1,000; this way 0.7383 and 0.7385).
    """
    scaled = {name: _scaled_by_best(ranking) for name, ranking in rankings.items()}
    floors = {
        name: values[-1] if depth is not None and values and len(values) >= depth else 0.0
        for name, values in scaled.items()
    }
    chunks = {scored.chunk.id: scored.chunk for ranking in rankings.values() for scored in ranking}
    ranks: dict[str, list[tuple[str, int]]] = {key: [] for key in chunks}
    scores = dict.fromkeys(chunks, 0.0)
    for name, ranking in rankings.items():
        weight = 1.0 if weights is None else weights.get(name, 1.0)
        found = {scored.chunk.id: value for scored, value in zip(ranking, scaled[name], strict=True)}
        for rank, scored in enumerate(ranking, start=1):
            ranks[scored.chunk.id].append((name, rank))
        for key in chunks:
            scores[key] += weight * found.get(key, floors[name])
    best = sorted(scores, key=lambda key: (-scores[key], key))[:k]
    return [ScoredChunk(chunks[key], scores[key], tuple(ranks[key])) for key in best]


def _scaled_by_best(ranking: Sequence[ScoredChunk]) -> list[float]:
    """Scores over the best one, in ranking order (so the last is the lowest)."""
    values = [scored.score for scored in ranking]
    high = max(values, default=0.0)
    if high > 0:
        return [max(value, 0.0) / high for value in values]
    # No positive score to scale by (a retriever whose scores are all negative): min-max.
    low = min(values, default=0.0)
    return [(value - low) / (high - low) if high > low else 1.0 for value in values]


FUSIONS = ("rrf", "convex")


class HybridRetriever:
    """Dense and BM25, fused over the top ``depth`` of each: by reciprocal rank (``rrf``),
    or by a convex blend of their normalised scores (``convex``)."""

    name = "hybrid"

    def __init__(
        self,
        parts: Sequence[Retriever],
        depth: int = 100,
        rrf_k: int = 60,
        weights: dict[str, float] | None = None,
        fusion: str = "rrf",
        metrics: Metrics = NO_METRICS,
        tracer: Tracer = NO_TRACER,
    ) -> None:
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}")
        self._parts = tuple(parts)
        self._depth, self._rrf_k = depth, rrf_k
        self._weights, self._fusion = weights, fusion
        self._metrics, self._tracer = metrics, tracer

    async def search(self, query: str, scope: SearchScope, k: int) -> list[ScoredChunk]:
        depth = max(k, self._depth)
        rankings = {part.name: await self._ranking(part, query, scope, depth) for part in self._parts}
        with self._tracer.span("fusion", method=self._fusion, k=k):
            if self._fusion == "convex":
                return convex_fusion(rankings, k, self._weights, depth)
            return reciprocal_rank_fusion(rankings, k, self._rrf_k, self._weights)

    async def _ranking(self, part: Retriever, query: str, scope: SearchScope, depth: int) -> list[ScoredChunk]:
        started = time.monotonic()
        with self._tracer.span(f"retrieve.{part.name}", retriever=part.name, k=depth) as span:
            ranking = await part.search(query, scope, depth)
            span.set("hits", len(ranking))
        self._metrics.retrieval_timed(part.name, time.monotonic() - started)
        return ranking
