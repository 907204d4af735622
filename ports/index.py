"""The chunk index port: where retrieval lives."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from botgpt.domain.model import Chunk, Document, ScoredChunk, SearchScope, Vector


class ChunkIndex(Protocol):
    """The vectors and the lexical index of every ready document, held by an index engine.

    The document store stays the source of truth; the index mirrors its ready documents and
    can be rebuilt from it. Every search is confined to one user's scope. Implementations
    must pass ``tests/contract/test_chunk_index.py``.
    """

    @property
    def name(self) -> str:
        """The engine's name, for logs and ``/ready``."""
        ...

    async def publish(self, document: Document, chunks: Sequence[Chunk]) -> None:
        """Make ``chunks`` (with their vectors) the document's entries, replacing any it had."""
        ...

    async def append(self, document: Document, chunks: Sequence[Chunk]) -> None:
        """Add more of the document's chunks (a large document is published in batches)."""
        ...

    async def remove(self, document_ids: Sequence[str]) -> None:
        """Drop every entry of these documents; ids without entries are ignored."""
        ...

    async def indexed_documents(self) -> set[str]:
        """The ids of every document with entries (for finding orphans after a crash)."""
        ...

    async def dense(self, scope: SearchScope, vector: Vector, k: int) -> list[ScoredChunk]:
        """The ``k`` chunks in scope nearest to ``vector`` by cosine similarity, best first."""
        ...

    async def lexical(self, scope: SearchScope, query: str, k: int) -> list[ScoredChunk]:
        """The ``k`` chunks in scope that best match ``query`` by BM25, best first; only
        chunks sharing a term with the query."""
        ...
