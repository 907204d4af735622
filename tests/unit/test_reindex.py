"""Reindexing: a user's documents move to the configured embedder, resumably, with progress."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from dependency_injector import providers

from botgpt.adapters.memory_documents import MemoryDocumentStore
from botgpt.adapters.memory_index import MemoryChunkIndex
from botgpt.domain.model import Document, DocumentStatus
from botgpt.domain.reindex import Reindexer
from botgpt.entrypoints.cli_reindex import run_reindex
from botgpt.entrypoints.container import Container, build_container
from botgpt.entrypoints.core import provided, stop_resources
from botgpt.entrypoints.settings import Settings
from tests.conftest import SteppingClock
from tests.fakes import HashingEmbedder
from tests.unit.conftest import stream

TEXTS = [b"Lighthouses guide ships at night.", b"Bread needs flour and yeast.", b"Keepers lived by the tower."]


def container_with(data_dir: Path, embedder: HashingEmbedder) -> Container:
    container = build_container(Settings.load(environ={}, data_dir=data_dir, store="sqlite", ingest_workers=1))
    container.embedder.override(providers.Object(embedder))
    return container


async def ingested(data_dir: Path, user: str, texts: list[bytes]) -> list[str]:
    container = container_with(data_dir, HashingEmbedder(dimension=32, name="old"))
    try:
        service = await provided(container.documents)
        ids = [(await service.upload(user, f"{n}.txt", stream(text))).document.id for n, text in enumerate(texts)]
        await provided(container.workers)
        container.ingest_wake().set()
        for _ in range(500):
            statuses = [(await service.get(user, i)).status for i in ids]
            if all(status is DocumentStatus.READY for status in statuses):
                return ids
            await asyncio.sleep(0.01)
        raise AssertionError("ingestion did not finish")
    finally:
        await stop_resources(container)


async def reindexed(data_dir: Path, user: str) -> str:
    """What ``botgpt reindex`` prints, run with the "new" embedder; it must succeed."""
    out = io.StringIO()
    container = container_with(data_dir, HashingEmbedder(dimension=16, name="new"))
    assert await run_reindex(container, user, False, out, 0.01) == 0
    return out.getvalue()


async def test_reindex_moves_only_the_users_documents_to_the_new_embedder(tmp_path: Path) -> None:
    mine = await ingested(tmp_path, "alice", TEXTS)
    theirs = await ingested(tmp_path, "bob", TEXTS[:1])
    assert "reindex to new: 3/3 documents (0 failed, 0 deleted meanwhile)" in await reindexed(tmp_path, "alice")

    container = container_with(tmp_path, HashingEmbedder(dimension=16, name="new"))
    try:
        store = await provided(container.document_store)
        for document_id in mine:
            document = await store.get_document("alice", document_id)
            assert document is not None and document.embedder == "new" and document.status is DocumentStatus.READY
            assert {len(chunk.vector) for chunk in await store.chunks_of(document_id)} == {16}
        other = await store.get_document("bob", theirs[0])
        assert other is not None and other.embedder == "old"  # another user's documents are not touched
        retrieval = await provided(container.retrieval)
        hits = await retrieval.search("alice", "ships at night", mine, 3)
        assert hits and hits[0].chunk.document_id == mine[0]
        everything = await retrieval.search("alice", "ships at night", k=10)  # the index holds the new vectors only
        assert {hit.chunk.document_id for hit in everything} <= set(mine) and everything[0].chunk.document_id == mine[0]
    finally:
        await stop_resources(container)

    assert "nothing to reindex" in await reindexed(tmp_path, "alice")


def document(number: int, embedder: str, status: DocumentStatus = DocumentStatus.READY) -> Document:
    at = SteppingClock()()
    return Document(
        f"d{number}", "alice", f"{number}.txt", "text/plain", 10, f"h{number}", status, at, at, 4, 4, None, embedder
    )


async def test_an_interrupted_reindex_resumes_without_losing_or_repeating_work() -> None:
    store = MemoryDocumentStore()
    for number, embedder in enumerate(["old", "old", "new"]):
        await store.add_document(document(number, embedder))
        job = await store.claim_job("setup", SteppingClock()(), SteppingClock()())
        assert job is not None
        await store.finish_job(job)
    reindexer = Reindexer(store, MemoryChunkIndex(), HashingEmbedder(name="new"), SteppingClock())

    first = await reindexer.queue("alice")
    assert sorted(d.id for d in first) == ["d0", "d1"]
    assert all(d.status is DocumentStatus.PENDING and d.chunks_embedded == 0 for d in first)
    # Interrupted before any worker ran: running it again covers the same documents, queued once.
    second = await reindexer.queue("alice")
    assert sorted(d.id for d in second) == ["d0", "d1"]
    claimed = []
    while job := await store.claim_job("w", SteppingClock()(), SteppingClock()()):
        claimed.append(job.document_id)
    assert sorted(claimed) == ["d0", "d1"]
    progress = await reindexer.progress("alice", second)
    assert (progress.documents, progress.ready, progress.finished) == (2, 0, False)
    await store.delete_document("d0")  # deleted while queued: settled, not failed
    progress = await reindexer.progress("alice", second)
    assert (progress.deleted, progress.failed) == (1, 0)
