"""The contract every DocumentStore adapter must meet."""

from __future__ import annotations

import array
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from botgpt.adapters.memory_documents import MemoryDocumentStore
from botgpt.adapters.mongo_documents import MongoDocumentStore
from botgpt.adapters.sqlite_documents import SqliteDocumentStore
from botgpt.domain.chunking import chunk_id
from botgpt.domain.ids import new_id
from botgpt.domain.model import Chunk, Document, DocumentStatus, JobCounts
from botgpt.ports.documents import DocumentStore
from tests.contract.conftest import BACKENDS, backend
from tests.contract.factories import new_document

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DocumentStore]:
    async with backend(
        request.param, tmp_path, MemoryDocumentStore, SqliteDocumentStore, MongoDocumentStore
    ) as adapter:
        yield adapter


def document(user: str = "alice", minute: int = 0, sha: str | None = None) -> Document:
    return new_document(user, minute, sha256=sha or new_id())


def chunks(doc: Document, ordinals: range) -> list[Chunk]:
    return [
        Chunk(chunk_id(doc.id, n), doc.id, n, n * 10, n * 10 + 9, f"chunk {n}", array.array("f", [n, 1.0, 0.5]))
        for n in ordinals
    ]


async def test_round_trip_and_owner_scoping(store: DocumentStore) -> None:
    d = document()
    await store.add_document(d)
    assert await store.get_document("alice", d.id) == d
    assert await store.get_document(None, d.id) == d
    assert await store.get_document("bob", d.id) is None
    assert await store.find_by_hash("alice", d.sha256) == d
    assert await store.find_by_hash("bob", d.sha256) is None


async def test_lists_newest_first_with_count(store: DocumentStore) -> None:
    docs = [document(minute=m) for m in range(5)]
    for d in docs:
        await store.add_document(d)
    await store.add_document(document("bob"))
    listed = await store.list_documents("alice", 3, 1)
    assert [d.id for d in listed] == [docs[3].id, docs[2].id, docs[1].id]
    assert await store.count_documents("alice") == 5


async def test_a_new_document_queues_one_job(store: DocumentStore) -> None:
    d = document()
    await store.add_document(d)
    job = await store.claim_job("w1", T0, T0 + LEASE)
    assert job is not None and job.document_id == d.id and job.attempts == 1
    assert await store.claim_job("w2", T0, T0 + LEASE) is None


async def test_an_expired_lease_can_be_claimed_again(store: DocumentStore) -> None:
    d = document()
    await store.add_document(d)
    first = await store.claim_job("w1", T0, T0 + LEASE)
    assert first is not None
    later = T0 + LEASE + timedelta(seconds=1)
    second = await store.claim_job("w2", later, later + LEASE)
    assert second is not None and second.worker == "w2" and second.attempts == 2
    assert not await store.renew_lease(first, later + LEASE)
    assert await store.renew_lease(second, later + 2 * LEASE)


async def test_released_leases_are_claimed_at_once_by_another_worker(store: DocumentStore) -> None:
    mine, theirs = document(minute=0), document(minute=1)
    await store.add_document(mine)
    await store.add_document(theirs)
    held = await store.claim_job("stopping", T0, T0 + LEASE)
    other = await store.claim_job("staying", T0, T0 + LEASE)
    assert held is not None and other is not None
    assert await store.release_leases("stopping") == 1
    assert await store.release_leases("stopping") == 0
    resumed = await store.claim_job("next", T0, T0 + LEASE)  # long before the lease would expire
    assert resumed is not None and resumed.document_id == held.document_id and resumed.attempts == 2
    assert not await store.renew_lease(held, T0 + 2 * LEASE)
    assert await store.renew_lease(other, T0 + 2 * LEASE)  # the other worker's lease is untouched
    assert await store.claim_job("more", T0, T0 + LEASE) is None


async def test_finishing_a_job_removes_it(store: DocumentStore) -> None:
    d = document()
    await store.add_document(d)
    job = await store.claim_job("w1", T0, T0 + LEASE)
    assert job is not None
    await store.finish_job(job)
    much_later = T0 + timedelta(days=1)
    assert await store.claim_job("w1", much_later, much_later + LEASE) is None


async def test_job_counts_tell_queued_running_and_expired_jobs_and_the_oldest(store: DocumentStore) -> None:
    assert await store.job_counts(T0) == JobCounts()
    first, second, third = document(minute=1), document(minute=2), document(minute=3)
    for doc in (second, first, third):
        await store.add_document(doc)
    held = await store.claim_job("w1", T0, T0 + LEASE)  # the oldest, first
    stale = await store.claim_job("w2", T0 - 2 * LEASE, T0 - LEASE)  # its lease ran out a minute ago
    assert held is not None and stale is not None
    counts = await store.job_counts(T0)
    assert counts == JobCounts(queued=1, running=1, expired=1, oldest_queued_at=first.created_at)
    await store.finish_job(held)
    later = await store.job_counts(T0 + 2 * LEASE)  # by then the other lease has run out too
    assert later == JobCounts(queued=1, running=0, expired=1, oldest_queued_at=second.created_at)


async def test_jobs_are_claimed_oldest_first(store: DocumentStore) -> None:
    older, newer = document(minute=1), document(minute=2)
    await store.add_document(newer)
    await store.add_document(older)
    job = await store.claim_job("w", T0, T0 + LEASE)
    assert job is not None and job.document_id == older.id


async def test_chunks_are_stored_once_with_their_vectors(store: DocumentStore) -> None:
    d = document()
    await store.add_document(d)
    progressed = attrs.evolve(d, chunks_embedded=3)
    await store.add_chunks(progressed, chunks(d, range(3)), "emb")
    await store.add_chunks(progressed, chunks(d, range(1, 3)), "emb")  # a resumed batch, again
    stored = await store.chunks_of(d.id)
    assert [c.ordinal for c in stored] == [0, 1, 2]
    assert list(stored[2].vector) == [2.0, 1.0, 0.5]
    assert stored[1] == chunks(d, range(1, 2))[0]
    assert await store.stored_chunk_count(d.id) == 3
    current = await store.get_document(None, d.id)
    assert current is not None and current.chunks_embedded == 3 and current.embedder == "emb"
    assert [c.ordinal for c in await store.chunk_range(d.id, 1, 5)] == [1, 2]
    assert await store.chunk_range(d.id, 0, 1) == stored[:1]
    assert await store.chunk_range(d.id, 3, 2) == []


async def test_update_saves_status_progress_and_error(store: DocumentStore) -> None:
    d = document()
    await store.add_document(d)
    failed = attrs.evolve(d, status=DocumentStatus.FAILED, error="no text", chunks_total=4, updated_at=T0 + LEASE)
    await store.update_document(failed)
    assert await store.get_document(None, d.id) == failed


async def test_delete_removes_chunks_and_job(store: DocumentStore) -> None:
    d = document()
    await store.add_document(d)
    await store.add_chunks(d, chunks(d, range(2)), "emb")
    assert await store.delete_document(d.id)
    assert not await store.delete_document(d.id)
    assert await store.get_document(None, d.id) is None
    assert await store.chunks_of(d.id) == []
    assert await store.claim_job("w", T0, T0 + LEASE) is None


async def test_clear_chunks(store: DocumentStore) -> None:
    d = document()
    await store.add_document(d)
    await store.add_chunks(d, chunks(d, range(2)), "emb")
    await store.clear_chunks(d.id)
    assert await store.stored_chunk_count(d.id) == 0


async def test_requeue_saves_the_document_and_queues_one_job(store: DocumentStore) -> None:
    d = document()
    await store.add_document(d)
    job = await store.claim_job("w1", T0, T0 + LEASE)
    assert job is not None
    ready = attrs.evolve(d, status=DocumentStatus.READY, chunks_total=2, chunks_embedded=2, embedder="old")
    await store.update_document(ready)
    await store.finish_job(job)
    assert await store.claim_job("w1", T0, T0 + LEASE) is None

    pending = attrs.evolve(ready, status=DocumentStatus.PENDING, chunks_embedded=0, updated_at=T0 + LEASE)
    await store.requeue(pending)
    await store.requeue(pending)  # twice before any worker: still one job
    assert await store.get_document("alice", d.id) == pending
    again = await store.claim_job("w2", T0 + LEASE, T0 + 2 * LEASE)
    assert again is not None and again.document_id == d.id
    assert await store.claim_job("w3", T0 + LEASE, T0 + 2 * LEASE) is None


async def test_chunks_of_a_deleted_document_are_refused_and_not_stored(store: DocumentStore) -> None:
    from botgpt.domain.errors import DocumentNotFound

    d = document()
    await store.add_document(d)
    await store.delete_document(d.id)
    with pytest.raises(DocumentNotFound):
        await store.add_chunks(d, chunks(d, range(3)), "e")
    assert await store.stored_chunk_count(d.id) == 0
