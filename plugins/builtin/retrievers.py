"""Built-in retrievers: ``dense`` (numpy cosine), ``bm25`` and ``hybrid`` (both, fused).

The indexes live in ``botgpt.adapters``; the hybrid strategy is the domain's
``HybridRetriever``. This module only builds them from settings and registers them.
"""

from __future__ import annotations

from botgpt.adapters.bm25_retriever import Bm25Retriever
from botgpt.adapters.chunk_cache import ChunkCache
from botgpt.adapters.dense_retriever import DenseRetriever
from botgpt.domain.fusion import HybridRetriever
from botgpt.plugins.hookspecs import PluginContext, RegisterRetriever, hookimpl


def build_dense(context: PluginContext, chunks: ChunkCache | None = None) -> DenseRetriever:
    return DenseRetriever(chunks or ChunkCache(context.store), context.embedder)


def build_bm25(context: PluginContext, chunks: ChunkCache | None = None) -> Bm25Retriever:
    config = context.config
    return Bm25Retriever(
        chunks or ChunkCache(context.store),
        k1=float(config.get("bm25_k1", 0.9)),
        b=float(config.get("bm25_b", 0.4)),
    )


def build_hybrid(context: PluginContext) -> HybridRetriever:
    # Both halves share one chunk cache, so each document's chunks are held once.
    chunks = ChunkCache(context.store)
    config = context.config
    weights = {"dense": float(config.get("hybrid_dense_weight", 2.0)), "bm25": 1.0}
    return HybridRetriever(
        (build_dense(context, chunks), build_bm25(context, chunks)),
        depth=int(config.get("hybrid_depth", 100)),
        rrf_k=int(config.get("hybrid_rrf_k", 20)),
        weights=weights,
        fusion=str(config.get("hybrid_fusion", "convex")),
    )


@hookimpl
def register_retrievers(register: RegisterRetriever) -> None:
    register("dense", build_dense)
    register("bm25", build_bm25)
    register("hybrid", build_hybrid)
