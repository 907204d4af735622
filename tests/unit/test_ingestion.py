"""Durable ingestion: progress, resumption after a crash, retries and failures."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from botgpt.adapters.memory_documents import MemoryDocumentStore
from botgpt.adapters.memory_index import MemoryChunkIndex
from botgpt.domain.documents import DocumentService
from botgpt.domain.errors import EmbedderError
from botgpt.domain.ingestion import IngestionWorker
from botgpt.domain.model import DocumentStatus, SearchScope
from tests.fakes import HashingEmbedder
from tests.unit.conftest import stream

SENTENCES = [f"Sentence {i} is about lighthouse number {i}." for i in range(12)]
TEXT = " ".join(SENTENCES).encode()


async def upload(service: DocumentService, data: bytes = TEXT, name: str = "doc.txt") -> str:
    return (await service.upload("alice", name, stream(data))).document.id


async def test_ingests_a_document_to_ready(
    document_service: DocumentService, worker: IngestionWorker, documents_store: MemoryDocumentStore
) -> None:
    document_id = await upload(document_service)
    assert await worker.run_once()
    document = await documents_store.get_document("alice", document_id)
    assert document is not None
    assert document.status is DocumentStatus.READY and document.is_vectorized
    assert document.chunks_embedded == document.chunks_total > 1
    assert document.embedder == "hashing"
    chunks = await documents_store.chunks_of(document_id)
    assert [c.ordinal for c in chunks] == list(range(document.chunks_total))
    text = TEXT.decode()
    assert all(text[c.start : c.end] == c.text for c in chunks)
    assert not await worker.run_once()  # the job is gone


async def test_a_ready_document_is_in_the_index_whole_published_in_batches(
    document_service: DocumentService, worker: IngestionWorker, chunk_index: MemoryChunkIndex
) -> None:
    document_id = await upload(document_service)
    assert await worker.run_once()
    assert worker.policy.publish_batch < len(SENTENCES)
    hits = await chunk_index.lexical(SearchScope("alice", "hashing"), "lighthouse", k=100)
    stored = await worker.store.chunks_of(document_id)
    assert sorted(hit.chunk.id for hit in hits) == sorted(chunk.id for chunk in stored)


async def test_a_crash_while_publishing_leaves_exactly_the_documents_chunks_after_the_resume(
    document_service: DocumentService, worker: IngestionWorker, chunk_index: MemoryChunkIndex
) -> None:
    document_id = await upload(document_service)
    original, appended = chunk_index.append, 0

    async def die_on_the_second_batch(document, chunks):  # type: ignore[no-untyped-def]
        nonlocal appended
        appended += 1
        if appended == 2:
            raise SystemExit("killed")
        await original(document, chunks)

    chunk_index.append = die_on_the_second_batch  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        await worker.run_once()
    chunk_index.append = original  # type: ignore[method-assign]
    assert await chunk_index.indexed_documents() == {document_id}  # one batch got in
    partial = await worker.store.get_document(None, document_id)
    assert partial is not None
    restarted = attrs.evolve(worker, name="restarted", clock=lambda: partial.updated_at + timedelta(minutes=5))
    assert await restarted.run_once()
    hits = await chunk_index.lexical(SearchScope("alice", "hashing"), "lighthouse", k=100)
    stored = await worker.store.chunks_of(document_id)
    assert sorted(hit.chunk.id for hit in hits) == sorted(chunk.id for chunk in stored)  # no duplicates


async def test_orphaned_index_entries_are_swept_at_start(
    document_service: DocumentService, worker: IngestionWorker, chunk_index: MemoryChunkIndex
) -> None:
    kept, gone = await upload(document_service), await upload(document_service, b"Another text entirely.")
    assert await worker.run_once() and await worker.run_once()
    await worker.store.delete_document(gone)  # as if the process died before removing its entries
    assert await worker.remove_orphans() == 1
    assert await chunk_index.indexed_documents() == {kept}


async def test_a_crash_mid_ingestion_resumes_with_exactly_its_chunks(
    document_service: DocumentService,
    worker: IngestionWorker,
    documents_store: MemoryDocumentStore,
    embedder: HashingEmbedder,
) -> None:
    document_id = await upload(document_service)
    # The first worker embeds one batch, then its process dies (the embedder never returns).
    calls = 0
    original = embedder.embed

    async def die_after_one_batch(texts):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 2:
            raise SystemExit("killed")
        return await original(texts)

    embedder.embed = die_after_one_batch  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        await worker.run_once()
    partial = await documents_store.get_document(None, document_id)
    assert partial is not None and partial.status is DocumentStatus.PROCESSING
    assert await documents_store.stored_chunk_count(document_id) == 2

    # After a restart, a new worker claims the job once the lease has run out.
    embedder.embed = original  # type: ignore[method-assign]
    restarted = attrs.evolve(worker, name="restarted")
    assert not await restarted.run_once()  # lease still held
    restarted.clock = lambda: partial.updated_at + timedelta(minutes=5)  # type: ignore[assignment]
    assert await restarted.run_once()

    document = await documents_store.get_document(None, document_id)
    assert document is not None and document.status is DocumentStatus.READY
    ordinals = [c.ordinal for c in await documents_store.chunks_of(document_id)]
    assert ordinals == list(range(document.chunks_total))


async def test_transient_embedder_errors_are_retried(
    document_service: DocumentService,
    worker: IngestionWorker,
    documents_store: MemoryDocumentStore,
    embedder: HashingEmbedder,
) -> None:
    document_id = await upload(document_service)
    embedder.fail_next(EmbedderError("rate limited"), EmbedderError("timeout"))
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    worker.sleep = record
    await worker.run_once()
    document = await documents_store.get_document(None, document_id)
    assert document is not None and document.status is DocumentStatus.READY
    assert len(sleeps) == 2 and all(s >= 0 for s in sleeps)


async def test_persistent_embedder_errors_fail_the_document_with_a_reason(
    document_service: DocumentService,
    worker: IngestionWorker,
    documents_store: MemoryDocumentStore,
    embedder: HashingEmbedder,
) -> None:
    document_id = await upload(document_service)
    embedder.fail_next(*[EmbedderError("unreachable")] * worker.policy.embed_attempts)
    await worker.run_once()
    document = await documents_store.get_document(None, document_id)
    assert document is not None and document.status is DocumentStatus.FAILED
    assert document.error is not None and "unreachable" in document.error
    assert await documents_store.stored_chunk_count(document_id) == 0
    assert not await worker.run_once()


async def test_a_permanent_embedder_error_is_not_retried(
    document_service: DocumentService,
    worker: IngestionWorker,
    documents_store: MemoryDocumentStore,
    embedder: HashingEmbedder,
) -> None:
    document_id = await upload(document_service)
    embedder.fail_next(EmbedderError("bad input", transient=False))
    await worker.run_once()
    document = await documents_store.get_document(None, document_id)
    assert document is not None and document.status is DocumentStatus.FAILED
    assert embedder.calls == 1


async def test_a_document_without_text_fails(
    document_service: DocumentService, worker: IngestionWorker, documents_store: MemoryDocumentStore
) -> None:
    document_id = await upload(document_service, b"   \n\n  \t ", "blank.txt")
    await worker.run_once()
    document = await documents_store.get_document(None, document_id)
    assert document is not None and document.status is DocumentStatus.FAILED
    assert document.error == "the document contains no text"


async def test_deleted_before_ingestion_means_no_work(
    document_service: DocumentService, worker: IngestionWorker, embedder: HashingEmbedder
) -> None:
    document_id = await upload(document_service)
    await document_service.delete("alice", document_id)
    assert not await worker.run_once()
    assert embedder.calls == 0


async def test_deleted_during_ingestion_ends_the_job_quietly(
    document_service: DocumentService,
    worker: IngestionWorker,
    embedder: HashingEmbedder,
    documents_store: MemoryDocumentStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    document_id = await upload(document_service)
    original = embedder.embed

    async def delete_then_embed(texts: list[str]) -> list[object]:
        await document_service.delete("alice", document_id)  # the user deletes it mid-way
        return await original(texts)  # type: ignore[return-value]

    embedder.embed = delete_then_embed  # type: ignore[assignment,method-assign]
    with caplog.at_level("INFO"):
        assert await worker.run_once()
    assert "deleted during its ingestion" in caplog.text
    assert not [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info]
    assert await documents_store.get_document(None, document_id) is None
    assert await documents_store.stored_chunk_count(document_id) == 0
    assert not await worker.run_once()  # nothing left to do
