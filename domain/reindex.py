"""Re-embedding a user's documents with the configured embedder, through the ingestion queue.

After the embedder changes, documents embedded by the old one still answer, but only with
``embedder_mismatch``. Reindexing queues them again: the ingestion workers chunk and embed
them from their stored files. It resumes by construction: a document already queued is left
to its job (which keeps the chunks it has embedded), and one already on the configured
embedder is skipped, so running it again after an interruption finishes the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import attrs

from botgpt.domain.clock import utc_now
from botgpt.domain.model import Document, DocumentStatus
from botgpt.ports.ai import Embedder
from botgpt.ports.documents import DocumentStore
from botgpt.ports.index import ChunkIndex

PAGE = 100
SETTLED = (DocumentStatus.READY, DocumentStatus.FAILED)


@attrs.frozen
class ReindexProgress:
    """Where a reindex stands: documents and chunks done of those queued."""

    documents: int
    ready: int
    failed: int
    deleted: int
    chunks_embedded: int
    chunks_total: int

    @property
    def finished(self) -> bool:
        return self.ready + self.failed + self.deleted == self.documents


@attrs.define
class Reindexer:
    """Queues a user's documents whose vectors another embedder made, and reports progress."""

    store: DocumentStore
    index: ChunkIndex
    embedder: Embedder
    clock: Callable[[], datetime] = utc_now

    async def queue(self, user_id: str, everything: bool = False) -> list[Document]:
        """Queue the documents to re-embed (with ``everything``, all settled ones); returns
        every document the reindex covers, those already queued included."""
        covered = []
        for document in await self._documents(user_id):
            if document.status not in SETTLED:
                covered.append(document)  # already queued: its job carries on
            elif everything or document.embedder != self.embedder.name:
                covered.append(await self._requeued(document))
        return covered

    async def progress(self, user_id: str, documents: Sequence[Document]) -> ReindexProgress:
        """How far the workers are with ``documents``; ones deleted meanwhile count as settled."""
        current = [await self.store.get_document(user_id, document.id) for document in documents]
        present = [document for document in current if document is not None]
        return ReindexProgress(
            documents=len(documents),
            ready=sum(d.status is DocumentStatus.READY and d.embedder == self.embedder.name for d in present),
            failed=sum(d.status is DocumentStatus.FAILED for d in present),
            deleted=len(current) - len(present),
            chunks_embedded=sum(d.chunks_embedded for d in present),
            chunks_total=sum(d.chunks_total for d in present),
        )

    async def _requeued(self, document: Document) -> Document:
        # Old vectors go first: the worker resumes after the chunks it finds stored.
        await self.index.remove([document.id])
        await self.store.clear_chunks(document.id)
        pending = attrs.evolve(
            document, status=DocumentStatus.PENDING, chunks_embedded=0, error=None, updated_at=self.clock()
        )
        await self.store.requeue(pending)
        return pending

    async def _documents(self, user_id: str) -> list[Document]:
        found: list[Document] = []
        while page := await self.store.list_documents(user_id, PAGE, len(found)):
            found.extend(page)
            if len(page) < PAGE:
                break
        return found
