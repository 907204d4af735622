"""Durable ingestion: claim a job under a lease, extract, chunk, embed, store.

A job lives in the store until its document is ready or has failed for good. A worker
claims it atomically under a lease and renews the lease after every batch. If the worker
dies, the lease runs out and another claim resumes where the stored chunks end: chunking is
deterministic and chunk ids derive from (document, ordinal), so the document ends with
exactly its chunks.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import datetime, timedelta

import attrs

from botgpt.domain.chunking import chunk_id, stream_chunks
from botgpt.domain.documents import extension_of
from botgpt.domain.errors import DocumentNotFound, EmbedderError, UnreadableDocument
from botgpt.domain.model import Chunk, ChunkSpan, Document, DocumentStatus, IngestionJob, Vector
from botgpt.ports.ai import Chunker, Embedder, TextExtractor
from botgpt.ports.blobs import BlobStorage
from botgpt.ports.documents import DocumentStore
from botgpt.ports.index import ChunkIndex
from botgpt.ports.telemetry import NO_METRICS, NO_TRACER, Metrics, Tracer

log = logging.getLogger(__name__)


@attrs.frozen
class IngestionPolicy:
    """Batching, leases and retries of ingestion."""

    batch_size: int = 32
    publish_batch: int = 1024
    lease: timedelta = timedelta(seconds=60)
    embed_attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 20.0


class IngestionFailed(Exception):
    """The document cannot be ingested; the reason is shown to its owner."""


class LeaseLost(Exception):
    """Another worker took the job over (our lease had expired); stop without writing."""


@attrs.define
class IngestionWorker:
    """Processes queued ingestion jobs, one at a time. Each job is a span with one child per
    step (extract, then chunk and embed for each batch, then publish)."""

    store: DocumentStore
    index: ChunkIndex
    blobs: BlobStorage
    extractors: Mapping[str, TextExtractor]
    chunker: Chunker
    embedder: Embedder
    clock: Callable[[], datetime]
    name: str = "worker"
    policy: IngestionPolicy = attrs.Factory(IngestionPolicy)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    metrics: Metrics = NO_METRICS
    tracer: Tracer = NO_TRACER

    async def remove_orphans(self) -> int:
        """Drop index entries of documents that are gone or failed (a crash between the store
        and the index can leave some); returns how many documents were cleaned. Documents still
        in ingestion keep theirs: their job publishes them again."""
        orphans = [
            document_id
            for document_id in sorted(await self.index.indexed_documents())
            if _is_orphaned(await self.store.get_document(None, document_id))
        ]
        await self.index.remove(orphans)
        if orphans:
            log.warning("removed index entries of %d documents that are gone or failed", len(orphans))
        return len(orphans)

    async def release_leases(self) -> int:
        """Give up this worker's leases (it is stopping): another worker resumes those jobs
        at once instead of after the lease expires. Returns how many were released."""
        return await self.store.release_leases(self.name)

    async def run_once(self) -> bool:
        """Claim and process one job; False if there was none."""
        now = self.clock()
        job = await self.store.claim_job(self.name, now, now + self.policy.lease)
        if job is None:
            return False
        await self._process(job)
        return True

    async def run(self, stop: asyncio.Event, wake: asyncio.Event, idle_seconds: float = 2.0) -> None:
        """Work until ``stop`` is set; sleep when idle until ``wake`` or a timeout."""
        while not stop.is_set():
            try:
                worked = await self.run_once()
            except Exception:
                log.exception("ingestion worker %s hit an unexpected error", self.name)
                worked = False
            if not worked:
                wake.clear()
                await _wait_any(stop, wake, idle_seconds)

    async def _process(self, job: IngestionJob) -> None:
        document = await self.store.get_document(None, job.document_id)
        if document is None:
            await self.store.finish_job(job)
            return
        with self.tracer.span("ingest", document_id=document.id, attempt=job.attempts) as span:
            try:
                await self._ingest(job, document)
                span.set("outcome", "ready")
            except IngestionFailed as failure:
                span.set("outcome", "failed")
                await self._fail(job, document, str(failure))
            except EmbedderError as error:
                span.set("outcome", "failed")
                await self._fail(job, document, f"embedding failed: {error}")
            except DocumentNotFound:
                span.set("outcome", "deleted")
                log.info("document %s was deleted during its ingestion; its job ends", document.id)
            except LeaseLost:
                span.set("outcome", "lease_lost")
                log.warning("worker %s lost the lease on document %s", self.name, document.id)

    async def _ingest(self, job: IngestionJob, document: Document) -> None:
        extractor = self.extractors.get(extension_of(document.filename))
        if extractor is None:
            raise IngestionFailed("no extractor is installed for this file type")
        path = await self.blobs.local_path(document.id)
        with self.tracer.span("ingest.extract") as span:
            total = await asyncio.to_thread(_count_spans, extractor, path, self.chunker)
            span.set("chunks", total)
        if total == 0:
            raise IngestionFailed("the document contains no text")
        done = await self.store.stored_chunk_count(document.id)
        document = await self._save(document, DocumentStatus.PROCESSING, total, done)
        spans = _numbered_spans(extractor, path, self.chunker, skip=done)
        while batch := await self._next_batch(spans):
            with self.tracer.span("ingest.embed", chunks=len(batch)):
                document = await self._embed_batch(job, document, batch)
            self.metrics.chunks_embedded(len(batch))
        with self.tracer.span("ingest.publish", chunks=total):
            await self._publish(job, document)
        await self._save(document, DocumentStatus.READY, total, total)
        await self.store.finish_job(job)
        self.metrics.document_ingested("ready")
        log.info("document %s is ready: %d chunks", document.id, total)

    async def _next_batch(self, spans: Iterator[tuple[int, ChunkSpan]]) -> list[tuple[int, ChunkSpan]]:
        # Extraction streams: each batch's text is read and chunked as it is taken.
        with self.tracer.span("ingest.chunk") as span:
            batch = await asyncio.to_thread(_take, spans, self.policy.batch_size)
            span.set("chunks", len(batch))
        return batch

    async def _publish(self, job: IngestionJob, document: Document) -> None:
        # The index mirrors ready documents. A large one goes in batches, so memory stays flat;
        # searches skip it until it is marked ready. Only a resumed job can find entries of its
        # own (an earlier attempt died while publishing; reindexing removes them before it queues),
        # so a first attempt appends without asking the index to look for any. A document
        # deleted meanwhile loses its entries again.
        if job.attempts > 1:
            await self.index.remove([document.id])
        size = self.policy.publish_batch
        for first in range(0, document.chunks_total, size):
            await self.index.append(document, await self.store.chunk_range(document.id, first, size))
            if not await self.store.renew_lease(job, self.clock() + self.policy.lease):
                raise LeaseLost(document.id)
        if await self.store.get_document(None, document.id) is None:
            await self.index.remove([document.id])

    async def _embed_batch(self, job: IngestionJob, document: Document, batch: list[tuple[int, ChunkSpan]]) -> Document:
        vectors = await self._embed_with_retries([span.text for _, span in batch])
        chunks = [
            Chunk(
                id=chunk_id(document.id, ordinal),
                document_id=document.id,
                ordinal=ordinal,
                start=span.start,
                end=span.end,
                text=span.text,
                vector=vector,
            )
            for (ordinal, span), vector in zip(batch, vectors, strict=True)
        ]
        document = attrs.evolve(
            document, chunks_embedded=batch[-1][0] + 1, updated_at=self.clock(), embedder=self.embedder.name
        )
        await self.store.add_chunks(document, chunks, self.embedder.name)
        if not await self.store.renew_lease(job, self.clock() + self.policy.lease):
            raise LeaseLost(document.id)
        return document

    async def _embed_with_retries(self, texts: list[str]) -> list[Vector]:
        for attempt in itertools.count(1):
            try:
                return list(await self.embedder.embed(texts))
            except EmbedderError as error:
                if not error.transient or attempt >= self.policy.embed_attempts:
                    raise
                delay = random.uniform(0, min(self.policy.backoff_cap, self.policy.backoff_base * 2**attempt))
                log.warning("embedder failed (%s); retry %d in %.1fs", error, attempt, delay)
                await self.sleep(delay)
        raise AssertionError("unreachable")

    async def _save(self, document: Document, status: DocumentStatus, total: int, done: int) -> Document:
        document = attrs.evolve(
            document,
            status=status,
            chunks_total=total,
            chunks_embedded=done,
            updated_at=self.clock(),
            error=None,
        )
        await self.store.update_document(document)
        return document

    async def _fail(self, job: IngestionJob, document: Document, reason: str) -> None:
        log.warning("document %s failed: %s", document.id, reason)
        failed = attrs.evolve(document, status=DocumentStatus.FAILED, error=reason, updated_at=self.clock())
        await self.index.remove([document.id])
        await self.store.clear_chunks(document.id)
        await self.store.update_document(attrs.evolve(failed, chunks_embedded=0))
        await self.store.finish_job(job)
        self.metrics.document_ingested("failed")


def _is_orphaned(document: Document | None) -> bool:
    return document is None or document.status is DocumentStatus.FAILED


def _count_spans(extractor: TextExtractor, path: str, chunker: Chunker) -> int:
    try:
        return sum(1 for _ in stream_chunks(extractor.extract(path), chunker))
    except UnreadableDocument as error:
        raise IngestionFailed(str(error)) from error


def _numbered_spans(
    extractor: TextExtractor, path: str, chunker: Chunker, skip: int
) -> Iterator[tuple[int, ChunkSpan]]:
    numbered = enumerate(stream_chunks(extractor.extract(path), chunker))
    return itertools.islice(numbered, skip, None)


def _take(spans: Iterator[tuple[int, ChunkSpan]], count: int) -> list[tuple[int, ChunkSpan]]:
    return list(itertools.islice(spans, count))


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for waiter in waiters:
        waiter.cancel()
