"""The contract every ChunkIndex adapter must meet: the same searches, the same answers."""

from __future__ import annotations

import array
import math
import os
import random
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from botgpt.adapters.lance_index import LanceChunkIndex, LanceTuning
from botgpt.adapters.memory_index import MemoryChunkIndex
from botgpt.adapters.qdrant_index import QdrantChunkIndex
from botgpt.domain.chunking import chunk_id
from botgpt.domain.ids import new_id
from botgpt.domain.model import Chunk, Document, DocumentStatus, SearchScope
from botgpt.ports.index import ChunkIndex
from tests.contract.factories import new_document

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DIMENSION = 8
INDEXES = ["memory", "lance", "qdrant_local", "qdrant_server"]


def engine(kind: str, tmp_path: Path) -> ChunkIndex:
    if kind == "lance":
        return LanceChunkIndex(tmp_path / "index")
    if kind == "qdrant_local":
        return QdrantChunkIndex(path=tmp_path / "qdrant")
    url = os.environ.get("QDRANT_URL")
    if not url:
        pytest.skip("the Qdrant server contract tests need QDRANT_URL (e.g. http://localhost:6333); not set")
    return QdrantChunkIndex(url=url, prefix=f"botgpt_test_{new_id()[:12]}")


@pytest.fixture(params=INDEXES)
async def index(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ChunkIndex]:
    if request.param == "memory":
        yield MemoryChunkIndex()
        return
    adapter = engine(request.param, tmp_path)
    await adapter.load()  # type: ignore[attr-defined]
    try:
        yield adapter
    finally:
        await adapter.remove(sorted(await adapter.indexed_documents()))
        await adapter.close()  # type: ignore[attr-defined]


def document(user: str = "alice", embedder: str = "hashing") -> Document:
    return new_document(user, status=DocumentStatus.READY, embedder=embedder)


def axis(position: int, tilt: float = 0.0) -> array.array[float]:
    """A unit vector along ``position``, tilted towards the next axis by ``tilt``."""
    values = [0.0] * DIMENSION
    values[position % DIMENSION] = math.cos(tilt)
    values[(position + 1) % DIMENSION] += math.sin(tilt)
    return array.array("f", values)


def chunks_of(doc: Document, texts: Sequence[str], vectors: Sequence[array.array[float]] | None = None) -> list[Chunk]:
    vectors = vectors or [axis(n) for n in range(len(texts))]
    starts = [sum(len(t) + 1 for t in texts[:n]) for n in range(len(texts))]
    return [
        Chunk(chunk_id(doc.id, n), doc.id, n, starts[n], starts[n] + len(text), text, vectors[n])
        for n, text in enumerate(texts)
    ]


def scope(user: str = "alice", documents: Sequence[Document] | None = None, embedder: str = "hashing") -> SearchScope:
    ids = None if documents is None else frozenset(d.id for d in documents)
    return SearchScope(user, embedder, ids)


async def test_dense_ranks_by_cosine_and_returns_whole_chunks(index: ChunkIndex) -> None:
    doc = document()
    stored = chunks_of(doc, ["zero", "one", "two"])
    await index.publish(doc, stored)
    hits = await index.dense(scope(), axis(1, tilt=0.3), k=2)
    assert [hit.chunk for hit in hits] == [stored[1], stored[2]]
    assert hits[0].score == pytest.approx(math.cos(0.3), abs=1e-4)
    assert hits[0].score > hits[1].score
    assert dict(hits[0].ranks) == {"dense": 1}


async def test_lexical_ranks_by_bm25_over_stemmed_terms(index: ChunkIndex) -> None:
    doc = document()
    texts = ["Ships sail at night.", "The lighthouse guides a ship home.", "Bread needs yeast."]
    await index.publish(doc, chunks_of(doc, texts))
    hits = await index.lexical(scope(), "the shipping of lighthouses", k=10)
    assert [hit.chunk.ordinal for hit in hits] == [1, 0]  # both terms beat one; "bread" shares none
    assert hits[0].score > hits[1].score > 0
    assert await index.lexical(scope(), "the of and", k=10) == []  # stop words only


async def test_searches_see_only_the_scope(index: ChunkIndex) -> None:
    mine, other, theirs = document(), document(), document(user="bob")
    await index.publish(mine, chunks_of(mine, ["lighthouse keeper"]))
    await index.publish(other, chunks_of(other, ["lighthouse lens"]))
    await index.publish(theirs, chunks_of(theirs, ["lighthouse at sea"]))
    everything = await index.lexical(scope(), "lighthouse", k=10)
    assert {hit.chunk.document_id for hit in everything} == {mine.id, other.id}
    narrowed = await index.dense(scope(documents=[other]), axis(0), k=10)
    assert {hit.chunk.document_id for hit in narrowed} == {other.id}
    assert await index.dense(scope(documents=[]), axis(0), k=10) == []
    assert await index.dense(scope(documents=[theirs]), axis(0), k=10) == []  # bob's, asked as alice
    assert await index.lexical(scope(embedder="another"), "lighthouse", k=10) == []


async def test_users_with_identical_chunks_never_see_each_other(index: ChunkIndex) -> None:
    alice, bob = document(), document(user="bob")
    texts = ["the lighthouse keeper", "the lighthouse lens"]
    await index.publish(alice, chunks_of(alice, texts))
    await index.publish(bob, chunks_of(bob, texts))
    for owner, doc, intruder in (("alice", alice, bob), ("bob", bob, alice)):
        dense = await index.dense(scope(owner), axis(0), k=10)
        lexical = await index.lexical(scope(owner), "lighthouse", k=10)
        assert {hit.chunk.document_id for hit in dense + lexical} == {doc.id}
        assert len(dense) == len(lexical) == 2
        assert await index.dense(scope(owner, documents=[intruder]), axis(0), k=10) == []
        assert await index.lexical(scope(owner, documents=[intruder]), "lighthouse", k=10) == []


async def test_quotes_in_ids_are_data_not_syntax(index: ChunkIndex) -> None:
    doc, bystander = document(user="o'brien' OR '1'='1"), document()
    await index.publish(doc, chunks_of(doc, ["harbour"]))
    await index.publish(bystander, chunks_of(bystander, ["harbour"]))
    hits = await index.lexical(scope(user=doc.user_id), "harbour", k=10)
    assert [hit.chunk.document_id for hit in hits] == [doc.id]


async def test_publishing_again_replaces_the_entries(index: ChunkIndex) -> None:
    doc = document()
    await index.publish(doc, chunks_of(doc, ["old words here", "more old words"]))
    await index.publish(doc, chunks_of(doc, ["new text"]))
    assert await index.lexical(scope(), "old words", k=10) == []
    hits = await index.dense(scope(), axis(0), k=10)
    assert [hit.chunk.text for hit in hits] == ["new text"]


async def test_removed_documents_leave_no_entries(index: ChunkIndex) -> None:
    kept, removed = document(), document()
    await index.publish(kept, chunks_of(kept, ["tide tables"]))
    await index.publish(removed, chunks_of(removed, ["tide charts", "tide clocks"]))
    await index.remove([removed.id, new_id()])  # an id without entries is ignored
    assert await index.indexed_documents() == {kept.id}
    assert {hit.chunk.document_id for hit in await index.dense(scope(), axis(0), k=10)} == {kept.id}
    assert {hit.chunk.document_id for hit in await index.lexical(scope(), "tide", k=10)} == {kept.id}


async def test_removing_a_republished_document_leaves_nothing(index: ChunkIndex) -> None:
    doc = document()
    await index.publish(doc, chunks_of(doc, ["first draft", "second draft"]))
    await index.publish(doc, chunks_of(doc, ["final draft"]))
    await index.append(doc, chunks_of(doc, ["final draft", "appendix draft"])[1:])
    await index.remove([doc.id])
    assert await index.indexed_documents() == set()
    assert await index.dense(scope(), axis(0), k=10) == []
    assert await index.lexical(scope(), "draft", k=10) == []


async def test_many_documents_in_turns_are_all_searchable(index: ChunkIndex) -> None:
    rng = random.Random(7)
    documents = [document() for _ in range(12)]
    for number, doc in enumerate(documents):
        texts = [f"report {number} section {n} " + " ".join(rng.choice("abcdef") for _ in range(5)) for n in range(3)]
        await index.publish(doc, chunks_of(doc, texts, [axis(number, 0.01 * n) for n in range(3)]))
    assert await index.indexed_documents() == {d.id for d in documents}
    hits = await index.dense(scope(), axis(5), k=3)
    assert hits[0].chunk.document_id == documents[5].id
    assert len(await index.lexical(scope(), "report", k=100)) == 36
    assert len(await index.lexical(scope(), "report", k=4)) == 4


async def test_another_process_sees_publishes_and_removals_at_once(tmp_path: Path) -> None:
    writer, reader = LanceChunkIndex(tmp_path / "index"), LanceChunkIndex(tmp_path / "index")
    await writer.load()
    await reader.load()
    try:
        doc = document()
        await reader.dense(scope(), axis(0), k=1)  # opened before anything existed
        await writer.publish(doc, chunks_of(doc, ["quay"]))
        assert [hit.chunk.document_id for hit in await reader.lexical(scope(), "quay", k=5)] == [doc.id]
        await writer.remove([doc.id])
        assert await reader.dense(scope(), axis(0), k=5) == []
    finally:
        await writer.close()
        await reader.close()


async def test_the_vector_index_agrees_with_exact_search(tmp_path: Path) -> None:
    rng = random.Random(3)
    tuning = LanceTuning(flat_limit=0, ann_min_rows=1000, optimize_every=1_000_000)
    exact, approximate = MemoryChunkIndex(), LanceChunkIndex(tmp_path / "index", tuning)
    await approximate.load()
    try:
        for _ in range(12):
            doc = document()
            vectors = [array.array("f", [rng.gauss(0, 1) for _ in range(DIMENSION)]) for _ in range(100)]
            stored = chunks_of(doc, [f"passage {n}" for n in range(100)], vectors)
            await exact.publish(doc, stored)
            await approximate.publish(doc, stored)
        await approximate.optimize()
        query = array.array("f", [rng.gauss(0, 1) for _ in range(DIMENSION)])
        truth = [hit.chunk.id for hit in await exact.dense(scope(), query, k=10)]
        found = [hit.chunk.id for hit in await approximate.dense(scope(), query, k=10)]
        assert len(set(truth) & set(found)) >= 9
    finally:
        await approximate.close()


async def test_publishing_no_chunks_removes_the_document(index: ChunkIndex) -> None:
    doc = document()
    await index.publish(doc, chunks_of(doc, ["buoy"]))
    await index.publish(doc, [])
    assert await index.indexed_documents() == set()


async def test_appended_batches_join_the_published_ones(index: ChunkIndex) -> None:
    doc = document()
    stored = chunks_of(doc, ["first harbour", "second harbour", "third harbour"])
    await index.publish(doc, stored[:1])
    await index.append(doc, stored[1:])
    hits = await index.lexical(scope(), "harbour", k=10)
    assert sorted(hit.chunk.ordinal for hit in hits) == [0, 1, 2]
    await index.publish(doc, stored[2:])  # publishing replaces everything appended before
    assert [hit.chunk.ordinal for hit in await index.lexical(scope(), "harbour", k=10)] == [2]
