"""Document, chunk and ingestion-job storage ports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from botgpt.domain.model import AttributeValue, Chunk, Document, IngestionJob, JobCounts


class DocumentStore(Protocol):
    """Documents, their chunks with vectors, and the ingestion job queue.

    Must pass ``tests/contract/test_document_store.py``.
    """

    async def add_document(self, document: Document) -> None:
        """Store a new document and queue its ingestion job, atomically."""
        ...

    async def requeue(self, document: Document) -> None:
        """Save ``document`` (pending again) and queue a new ingestion job for it, atomically.
        A job already queued for it stays the only one."""
        ...

    async def get_document(self, user_id: str | None, document_id: str) -> Document | None:
        """One document, or None. ``user_id=None`` skips the owner check."""
        ...

    async def find_by_hash(self, user_id: str, sha256: str) -> Document | None:
        """The user's document with these exact bytes, if any."""
        ...

    async def list_documents(self, user_id: str, limit: int, offset: int) -> list[Document]:
        """A user's documents, newest first."""
        ...

    async def count_documents(self, user_id: str) -> int:
        """How many documents the user owns."""
        ...

    async def update_document(self, document: Document) -> None:
        """Save status, progress and error fields."""
        ...

    async def set_attributes(self, document_id: str, attributes: dict[str, AttributeValue], at: datetime) -> bool:
        """Replace the document's attributes and set ``updated_at``; False if it is gone."""
        ...

    async def ready_attributes(self, user_id: str) -> dict[str, dict[str, AttributeValue]]:
        """The attributes of each of the user's ready documents, by document id."""
        ...

    async def delete_document(self, document_id: str) -> bool:
        """Delete the document, its chunks, vectors and job; False if it did not exist."""
        ...

    async def claim_job(self, worker: str, now: datetime, lease_until: datetime) -> IngestionJob | None:
        """Atomically take one queued job, or one whose lease expired; None if there is none."""
        ...

    async def renew_lease(self, job: IngestionJob, lease_until: datetime) -> bool:
        """Extend a held lease; False if the job is gone or another worker holds it."""
        ...

    async def release_leases(self, worker: str) -> int:
        """Give up every lease ``worker`` holds (it is stopping), so that another worker
        claims those jobs at once; returns how many were released."""
        ...

    async def job_counts(self, now: datetime) -> JobCounts:
        """The queue as of ``now``: queued, running and expired jobs, and the oldest's queue time."""
        ...

    async def finish_job(self, job: IngestionJob) -> None:
        """Remove a completed (or permanently failed) job."""
        ...

    async def clear_chunks(self, document_id: str) -> None:
        """Remove every chunk of a document (its ingestion failed for good)."""
        ...

    async def stored_chunk_count(self, document_id: str) -> int:
        """How many chunks of the document are stored (a resumed job skips them)."""
        ...

    async def add_chunks(self, document: Document, chunks: Sequence[Chunk], embedder: str) -> None:
        """Store chunks with their vectors and the document's progress, atomically.

        Chunk ids are deterministic, so storing the same chunk twice keeps one copy. Raises
        ``DocumentNotFound`` (and stores nothing) if the document was deleted meanwhile.
        """
        ...

    async def chunks_of(self, document_id: str) -> list[Chunk]:
        """All chunks of a document with their vectors, in order."""
        ...

    async def chunk_range(self, document_id: str, first: int, count: int) -> list[Chunk]:
        """The document's chunks with ordinals ``first`` to ``first + count - 1``, in order."""
        ...
