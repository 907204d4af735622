"""Reranking with a sentence-transformers cross-encoder read from a local folder.

No cross-encoder ships on the package index with its weights, so botgpt bundles none: this
adapter loads the folder the deployment names (``BOTGPT_RERANKER_MODEL_PATH``), offline.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs

from botgpt.domain.model import ScoredChunk


class CrossEncoderReranker:
    """A ``Reranker`` that scores each (query, chunk) pair jointly, on one dedicated thread."""

    name = "cross_encoder"

    def __init__(self, model_path: Path, batch_size: int = 16) -> None:
        self._model_path = model_path
        self._batch_size = batch_size
        self._model: Any = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="botgpt-rerank")

    async def load(self) -> None:
        """Load the model from its folder, never from a hub."""
        if self._model is None:
            self._model = await asyncio.get_running_loop().run_in_executor(self._thread, self._load)

    def _load(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import CrossEncoder

        return CrossEncoder(str(self._model_path), device="cpu")

    async def rerank(self, query: str, hits: Sequence[ScoredChunk]) -> list[ScoredChunk]:
        if not hits:
            return []
        pairs = [(query, hit.chunk.text) for hit in hits]
        scores = await asyncio.get_running_loop().run_in_executor(
            self._thread, lambda: self._model.predict(pairs, batch_size=self._batch_size, show_progress_bar=False)
        )
        ordered = sorted(zip(hits, map(float, scores), strict=True), key=lambda pair: -pair[1])
        return [
            attrs.evolve(hit, score=score, ranks=(*hit.ranks, (self.name, rank)))
            for rank, (hit, score) in enumerate(ordered, 1)
        ]

    async def close(self) -> None:
        self._model = None
        self._thread.shutdown(wait=True)
