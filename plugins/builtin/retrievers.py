"""Built-in retrievers: ``dense`` (cosine), ``bm25`` and ``hybrid`` (both, fused).

The ranking itself happens in the configured chunk index (``botgpt.adapters``); the hybrid
strategy is the domain's ``HybridRetriever``. This module only builds them from settings
and registers them.
"""

from __future__ import annotations

from botgpt.adapters.index_retrievers import Bm25Retriever, DenseRetriever
from botgpt.domain.fusion import HybridRetriever
from botgpt.plugins.hookspecs import PluginContext, RegisterRetriever, hookimpl


def build_dense(context: PluginContext) -> DenseRetriever:
    return DenseRetriever(context.index, context.embedder)


def build_bm25(context: PluginContext) -> Bm25Retriever:
    return Bm25Retriever(context.index)


def build_hybrid(context: PluginContext) -> HybridRetriever:
    config = context.config
    weights = {"dense": float(config.get("hybrid_dense_weight", 2.0)), "bm25": 1.0}
    return HybridRetriever(
        (build_dense(context), build_bm25(context)),
        depth=int(config.get("hybrid_depth", 100)),
        rrf_k=int(config.get("hybrid_rrf_k", 20)),
        weights=weights,
        fusion=str(config.get("hybrid_fusion", "convex")),
        metrics=context.metrics,
        tracer=context.tracer,
    )


@hookimpl
def register_retrievers(register: RegisterRetriever) -> None:
    register("dense", build_dense)
    register("bm25", build_bm25)
    register("hybrid", build_hybrid)
