"""In-memory document store: the `memory` backend, and the fake for unit tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from botgpt.domain.errors import DocumentNotFound
from botgpt.domain.model import AttributeValue, Chunk, Document, DocumentStatus, IngestionJob, JobCounts


@attrs.define
class _Job:
    created_at: datetime
    worker: str | None = None
    lease_until: datetime | None = None
    attempts: int = 0


@attrs.define
class MemoryDocumentStore:
    """Keeps documents, chunks and jobs in dicts. Lost on restart."""

    _documents: dict[str, Document] = attrs.field(factory=dict)
    _chunks: dict[str, dict[int, Chunk]] = attrs.field(factory=dict)
    _embedders: dict[str, str] = attrs.field(factory=dict)
    _jobs: dict[str, _Job] = attrs.field(factory=dict)

    async def add_document(self, document: Document) -> None:
        self._documents[document.id] = document
        self._jobs[document.id] = _Job(created_at=document.created_at)

    async def requeue(self, document: Document) -> None:
        self._documents[document.id] = document
        self._jobs.setdefault(document.id, _Job(created_at=document.updated_at))

    async def get_document(self, user_id: str | None, document_id: str) -> Document | None:
        document = self._documents.get(document_id)
        if document is None or (user_id is not None and document.user_id != user_id):
            return None
        return document

    async def find_by_hash(self, user_id: str, sha256: str) -> Document | None:
        return next((d for d in self._documents.values() if d.user_id == user_id and d.sha256 == sha256), None)

    async def list_documents(self, user_id: str, limit: int, offset: int) -> list[Document]:
        owned = sorted(
            (d for d in self._documents.values() if d.user_id == user_id),
            key=lambda d: (d.created_at, d.id),
            reverse=True,
        )
        return owned[offset : offset + limit]

    async def count_documents(self, user_id: str) -> int:
        return sum(1 for d in self._documents.values() if d.user_id == user_id)

    async def update_document(self, document: Document) -> None:
        if document.id in self._documents:
            self._documents[document.id] = document

    async def set_attributes(self, document_id: str, attributes: dict[str, AttributeValue], at: datetime) -> bool:
        current = self._documents.get(document_id)
        if current is None:
            return False
        self._documents[document_id] = attrs.evolve(current, attributes=dict(attributes), updated_at=at)
        return True

    async def ready_attributes(self, user_id: str) -> dict[str, dict[str, AttributeValue]]:
        return {
            d.id: dict(d.attributes)
            for d in self._documents.values()
            if d.user_id == user_id and d.status is DocumentStatus.READY
        }

    def get_now(self, document_id: str) -> Document | None:
        """The document, read synchronously (for the memory collection store beside this one)."""
        return self._documents.get(document_id)

    async def delete_document(self, document_id: str) -> bool:
        self._chunks.pop(document_id, None)
        self._jobs.pop(document_id, None)
        return self._documents.pop(document_id, None) is not None

    async def claim_job(self, worker: str, now: datetime, lease_until: datetime) -> IngestionJob | None:
        claimable = [
            (job.created_at, document_id)
            for document_id, job in self._jobs.items()
            if job.lease_until is None or job.lease_until < now
        ]
        if not claimable:
            return None
        document_id = min(claimable)[1]
        job = self._jobs[document_id]
        job.worker, job.lease_until, job.attempts = worker, lease_until, job.attempts + 1
        return IngestionJob(document_id=document_id, worker=worker, lease_until=lease_until, attempts=job.attempts)

    async def renew_lease(self, job: IngestionJob, lease_until: datetime) -> bool:
        held = self._jobs.get(job.document_id)
        if held is None or held.worker != job.worker:
            return False
        held.lease_until = lease_until
        return True

    async def release_leases(self, worker: str) -> int:
        held = [job for job in self._jobs.values() if job.worker == worker]
        for job in held:
            job.worker, job.lease_until = None, None
        return len(held)

    async def job_counts(self, now: datetime) -> JobCounts:
        jobs = list(self._jobs.values())
        return JobCounts(
            queued=sum(job.lease_until is None for job in jobs),
            running=sum(job.lease_until is not None and job.lease_until >= now for job in jobs),
            expired=sum(job.lease_until is not None and job.lease_until < now for job in jobs),
            oldest_queued_at=min((job.created_at for job in jobs), default=None),
        )

    async def finish_job(self, job: IngestionJob) -> None:
        held = self._jobs.get(job.document_id)
        if held is not None and held.worker == job.worker:
            del self._jobs[job.document_id]

    async def stored_chunk_count(self, document_id: str) -> int:
        return len(self._chunks.get(document_id, {}))

    async def add_chunks(self, document: Document, chunks: Sequence[Chunk], embedder: str) -> None:
        if document.id not in self._documents:
            raise DocumentNotFound()
        stored = self._chunks.setdefault(document.id, {})
        stored.update({chunk.ordinal: chunk for chunk in chunks})
        self._embedders[document.id] = embedder
        current = self._documents.get(document.id)
        if current is not None:
            self._documents[document.id] = attrs.evolve(
                current,
                chunks_embedded=document.chunks_embedded,
                updated_at=document.updated_at,
                embedder=embedder,
            )

    async def clear_chunks(self, document_id: str) -> None:
        self._chunks.pop(document_id, None)

    async def chunk_range(self, document_id: str, first: int, count: int) -> list[Chunk]:
        stored = self._chunks.get(document_id, {})
        return [stored[n] for n in range(first, first + count) if n in stored]

    async def chunks_of(self, document_id: str) -> list[Chunk]:
        return [chunk for _, chunk in sorted(self._chunks.get(document_id, {}).items())]
