"""Per-document chunks held in memory after first use, and a small LRU for document sets
(a RAG conversation asks about the same set turn after turn)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import attrs

from botgpt.domain.model import Chunk, Document
from botgpt.ports.documents import DocumentStore

SET_CACHE_SIZE = 8

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    """A tiny least-recently-used map."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        if key in self._items:
            self._items.move_to_end(key)
        return self._items.get(key)

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def drop_where(self, predicate: Callable[[K], bool]) -> None:
        for key in [key for key in self._items if predicate(key)]:
            del self._items[key]


def set_key(documents: Sequence[Document]) -> tuple[tuple[str, str], ...]:
    """Identifies a document set, and changes if any document is re-ingested."""
    return tuple(sorted((d.id, d.updated_at.isoformat()) for d in documents))


@attrs.define
class ChunkCache:
    """Chunks of each document, loaded once from the store."""

    store: DocumentStore
    _chunks: dict[str, list[Chunk]] = attrs.field(factory=dict)

    async def of(self, document: Document) -> list[Chunk]:
        if document.id not in self._chunks:
            self._chunks[document.id] = await self.store.chunks_of(document.id)
        return self._chunks[document.id]

    def forget(self, document_id: str) -> None:
        self._chunks.pop(document_id, None)
