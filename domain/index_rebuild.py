"""Refilling the chunk index from the chunks the document store holds.

The store keeps every ready document's chunks with their vectors; the index only mirrors
them for search. So an index can be rebuilt (after a restore, or onto another engine)
without embedding anything again.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from botgpt.domain.model import DocumentStatus
from botgpt.ports.documents import DocumentStore
from botgpt.ports.index import ChunkIndex


@attrs.frozen
class IndexRebuild:
    """Publishes ready documents' stored chunks to the index, in bounded batches."""

    store: DocumentStore
    index: ChunkIndex
    batch: int = 1024

    async def rebuild(self, document_ids: Iterable[str]) -> int:
        """Make each ready document's index entries its stored chunks; returns how many chunks
        were indexed. Documents that are not ready (or gone) are skipped: ingestion owns them."""
        indexed = 0
        for document_id in document_ids:
            indexed += await self._republish(document_id)
        return indexed

    async def _republish(self, document_id: str) -> int:
        document = await self.store.get_document(None, document_id)
        if document is None or document.status is not DocumentStatus.READY:
            return 0
        await self.index.remove([document_id])
        for first in range(0, document.chunks_total, self.batch):
            await self.index.append(document, await self.store.chunk_range(document_id, first, self.batch))
        return document.chunks_total
