"""The ``memory`` chunk index: numpy cosine and BM25 in process, for the ``memory`` store,
embedding apps and tests. Lost at exit, like the store it sits beside."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import attrs
import numpy as np
import numpy.typing as npt

from botgpt.adapters.bm25 import Bm25Index, top_indices
from botgpt.adapters.text_analysis import Analyzer
from botgpt.domain.model import Chunk, Document, ScoredChunk, SearchScope, Vector

Matrix = npt.NDArray[np.float32]
SCOPE_CACHE = 8


@attrs.frozen
class _Entry:
    user_id: str
    embedder: str | None
    chunks: list[Chunk]
    matrix: Matrix


def normalised_rows(chunks: Sequence[Chunk]) -> Matrix:
    """The chunks' vectors as unit rows of a float32 matrix (zero rows stay zero)."""
    if not chunks:
        return np.zeros((0, 0), dtype=np.float32)
    matrix = np.stack([np.frombuffer(chunk.vector, dtype=np.float32) for chunk in chunks])
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    normalised: Matrix = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
    return normalised


class MemoryChunkIndex:
    """Exact search over the scope's chunks; BM25 statistics are the scope's own."""

    name = "memory"

    def __init__(self, k1: float = 0.9, b: float = 0.4) -> None:
        self._entries: dict[str, _Entry] = {}
        self._k1, self._b = k1, b
        self._analyzer = Analyzer()
        # A RAG conversation asks about the same scope turn after turn: keep its BM25 postings.
        self._lexical: OrderedDict[tuple[str, ...], Bm25Index] = OrderedDict()

    async def publish(self, document: Document, chunks: Sequence[Chunk]) -> None:
        if not chunks:
            await self.remove([document.id])
            return
        ordered = sorted(chunks, key=lambda chunk: chunk.ordinal)
        self._entries[document.id] = _Entry(document.user_id, document.embedder, ordered, normalised_rows(ordered))
        self._lexical.clear()

    async def append(self, document: Document, chunks: Sequence[Chunk]) -> None:
        held = self._entries.get(document.id)
        await self.publish(document, [*(held.chunks if held else ()), *chunks])

    async def remove(self, document_ids: Sequence[str]) -> None:
        for document_id in document_ids:
            self._entries.pop(document_id, None)
        self._lexical.clear()

    async def indexed_documents(self) -> set[str]:
        return set(self._entries)

    async def dense(self, scope: SearchScope, vector: Vector, k: int) -> list[ScoredChunk]:
        entries = [entry for _, entry in self._in_scope(scope) if entry.chunks]
        if not entries:
            return []
        chunks = [chunk for entry in entries for chunk in entry.chunks]
        query = np.frombuffer(vector, dtype=np.float32)
        scores = np.concatenate([entry.matrix for entry in entries]) @ (
            query / max(float(np.linalg.norm(query)), 1e-12)
        )
        return [
            ScoredChunk(chunks[i], float(scores[i]), (("dense", r),)) for r, i in enumerate(top_indices(scores, k), 1)
        ]

    async def lexical(self, scope: SearchScope, query: str, k: int) -> list[ScoredChunk]:
        index = self._bm25(scope)
        scores = index.scores(self._analyzer.terms(query), self._k1, self._b)
        best = [i for i in top_indices(scores, k) if scores[i] > 0]
        return [ScoredChunk(index.chunks[i], float(scores[i]), (("bm25", r),)) for r, i in enumerate(best, 1)]

    def _in_scope(self, scope: SearchScope) -> list[tuple[str, _Entry]]:
        return sorted(
            (document_id, entry)
            for document_id, entry in self._entries.items()
            if entry.user_id == scope.user_id
            and entry.embedder == scope.embedder
            and (scope.document_ids is None or document_id in scope.document_ids)
        )

    def _bm25(self, scope: SearchScope) -> Bm25Index:
        in_scope = self._in_scope(scope)
        key = tuple(document_id for document_id, _ in in_scope)
        index = self._lexical.get(key)
        if index is None:
            index = Bm25Index.build([chunk for _, entry in in_scope for chunk in entry.chunks], self._analyzer)
            self._lexical[key] = index
            while len(self._lexical) > SCOPE_CACHE:
                self._lexical.popitem(last=False)
        self._lexical.move_to_end(key)
        return index
