"""The ``lance`` index beyond the shared contract: one table per user and embedder, the
directory of documents, several processes on one directory, maintenance, and the move from
the earlier layout (every user in one table per vector dimension)."""

from __future__ import annotations

import array
import logging
import random
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

from botgpt.adapters import lance_index, lance_migration
from botgpt.adapters.lance_index import LanceChunkIndex, LanceTuning
from botgpt.adapters.lance_rows import chunk_rows, table_name
from botgpt.adapters.lance_tables import ChunkTables
from botgpt.adapters.text_analysis import Analyzer
from botgpt.domain.chunking import chunk_id
from botgpt.domain.model import Document
from tests.contract.test_chunk_index import DIMENSION, axis, chunks_of, document, scope


def tables_of(path: Path) -> dict[str, int]:
    """Every table in the database directory with its row count, read as a stranger would."""
    import lancedb

    db = lancedb.connect(path)
    return {name: db.open_table(name).count_rows() for name in db.list_tables().tables}


@pytest.fixture
async def index(tmp_path: Path) -> AsyncIterator[LanceChunkIndex]:
    adapter = LanceChunkIndex(tmp_path / "index")
    await adapter.load()
    yield adapter
    await adapter.close()


async def test_each_user_and_embedder_has_a_table_of_their_own(index: LanceChunkIndex) -> None:
    alice, bob, alice_e5 = document(), document(user="bob"), document(embedder="e5")
    for doc in (alice, bob, alice_e5):
        await index.publish(doc, chunks_of(doc, ["harbour wall", "harbour light"]))
    tables = tables_of(index.path)
    for user, embedder in (("alice", "hashing"), ("bob", "hashing"), ("alice", "e5")):
        assert tables[table_name(user, embedder)] == 2
    assert tables["documents"] == 3


async def test_another_users_uploads_leave_my_ranking_alone(index: LanceChunkIndex) -> None:
    mine = document()
    await index.publish(mine, chunks_of(mine, ["tide tables for the harbour", "bread and yeast"]))
    before = await index.lexical(scope(), "harbour tide", k=5)
    for _ in range(5):  # bob's corpus makes "harbour" common: it must not weigh less for alice
        theirs = document(user="bob")
        await index.publish(theirs, chunks_of(theirs, ["harbour", "harbour again", "harbour and tide"]))
    after = await index.lexical(scope(), "harbour tide", k=5)
    assert [hit.chunk for hit in after] == [hit.chunk for hit in before] and len(before) == 1
    assert after[0].score == pytest.approx(before[0].score)


async def test_removal_after_republishing_leaves_no_rows_anywhere(index: LanceChunkIndex) -> None:
    doc, kept = document(), document(user="bob")
    await index.publish(kept, chunks_of(kept, ["quay"]))
    await index.publish(doc, chunks_of(doc, ["old text", "older text"]))
    await index.publish(doc, chunks_of(doc, ["new text"]))
    moved = attrs.evolve(doc, embedder="e5")  # reindexed with another embedder: another table
    await index.publish(moved, chunks_of(moved, ["newest text"]))
    assert tables_of(index.path)[table_name("alice", "hashing")] == 0
    await index.remove([doc.id])
    tables = tables_of(index.path)
    assert tables.pop(table_name("bob", "hashing")) == 1
    assert tables.pop("documents") == 1  # bob's
    assert set(tables.values()) == {0}
    assert await index.indexed_documents() == {kept.id}


async def test_a_crash_between_directory_and_chunks_is_cleaned_by_remove(
    index: LanceChunkIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = document()

    def disk_full(self: ChunkTables, name: str, rows: Any) -> None:
        raise OSError("no space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(ChunkTables, "add", disk_full)
        with pytest.raises(OSError):
            await index.publish(doc, chunks_of(doc, ["quay"]))
    assert await index.indexed_documents() == {doc.id}  # what the orphan sweep goes by
    assert await index.dense(scope(), axis(0), k=5) == []
    await index.remove([doc.id])
    assert await index.indexed_documents() == set()
    assert tables_of(index.path)["documents"] == 0


async def test_another_process_finds_a_new_users_table(tmp_path: Path) -> None:
    writer, reader = LanceChunkIndex(tmp_path / "index"), LanceChunkIndex(tmp_path / "index")
    await writer.load()
    await reader.load()
    try:
        carol = document(user="carol")
        assert await reader.lexical(scope("carol"), "quay", k=5) == []  # no table yet
        await writer.publish(carol, chunks_of(carol, ["quay", "quay wall"]))
        assert {hit.chunk.document_id for hit in await reader.dense(scope("carol"), axis(0), k=5)} == {carol.id}
        assert len(await reader.lexical(scope("carol"), "quay", k=5)) == 2
        assert await reader.indexed_documents() == {carol.id}
        await reader.remove([carol.id])
        assert await writer.lexical(scope("carol"), "quay", k=5) == []
        assert await writer.indexed_documents() == set()
    finally:
        await writer.close()
        await reader.close()


async def test_maintenance_visits_only_the_tables_written_since(
    index: LanceChunkIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    visited: list[str] = []
    maintain = lance_index.maintain

    def spy(table: Any, build: bool, ann_min_rows: int) -> bool:
        visited.append(table.name)
        return maintain(table, build, ann_min_rows)

    monkeypatch.setattr(lance_index, "maintain", spy)
    alice, bob = document(), document(user="bob")
    await index.publish(alice, chunks_of(alice, ["quay"]))
    await index.publish(bob, chunks_of(bob, ["quay"]))
    await index.optimize()
    assert sorted(visited) == sorted([table_name("alice", "hashing"), table_name("bob", "hashing")])
    visited.clear()
    await index.append(alice, chunks_of(alice, ["quay", "wall"])[1:])
    await index.optimize()
    await index.optimize()  # nothing written since
    assert sorted(visited) == sorted([table_name("alice", "hashing")])
    assert len(await index.lexical(scope(), "quay wall", k=5)) == 2


async def test_the_directory_is_compacted_between_maintenance_runs(tmp_path: Path) -> None:
    index = LanceChunkIndex(tmp_path / "index", LanceTuning(optimize_every=4, maintenance_interval=3600))
    await index.load()
    documents = [document(user=f"user{n % 3}") for n in range(14)]
    for doc in documents:
        await index.publish(doc, chunks_of(doc, ["quay"]))
    await index.close()  # lets the compactions finish
    import lancedb

    directory = lancedb.connect(index.path).open_table("documents")
    assert directory.count_rows() == 14
    assert directory.stats()["fragment_stats"]["num_fragments"] <= 4  # 14 writes, 3 compactions


async def test_a_table_large_enough_gets_its_vector_index(tmp_path: Path) -> None:
    rng = random.Random(5)
    index = LanceChunkIndex(tmp_path / "index", LanceTuning(flat_limit=0, ann_min_rows=600))
    await index.load()
    try:
        small, large = document(user="bob"), [document() for _ in range(6)]
        await index.publish(small, chunks_of(small, ["quay"]))
        for doc in large:
            vectors = [array.array("f", [rng.gauss(0, 1) for _ in range(DIMENSION)]) for _ in range(100)]
            await index.publish(doc, chunks_of(doc, [f"passage {n}" for n in range(100)], vectors))
        await index.optimize()
        assert vector_indexed(index.path) == {table_name("alice", "hashing")}
        hits = await index.dense(scope(), vectors[7], k=3)
        assert hits[0].chunk.id == chunk_id(large[-1].id, 7)
    finally:
        await index.close()


def vector_indexed(path: Path) -> set[str]:
    import lancedb

    db = lancedb.connect(path)
    names = [name for name in db.list_tables().tables if name != "documents"]
    return {name for name in names if any(i.columns == ["vector"] for i in db.open_table(name).list_indices())}


# The earlier layout, as its code wrote it: every user in ``chunks_<dimension>``.


def write_legacy(path: Path, documents: Sequence[tuple[Document, Sequence[str]]]) -> None:
    import lancedb
    from lancedb.index import FTS, BTree

    db = lancedb.connect(path)
    table = None
    for doc, texts in documents:
        rows = chunk_rows(doc, chunks_of(doc, texts), Analyzer())
        if table is None:
            table = db.create_table(f"chunks_{DIMENSION}", data=rows)
            table.create_index("document_id", config=BTree())
            table.create_index("user_id", config=BTree())
            table.create_index("terms", config=FTS(base_tokenizer="whitespace", stem=False, lower_case=False))
        else:
            table.add(rows)


def legacy_corpus() -> list[tuple[Document, list[str]]]:
    users = ["alice", "bob", "o'brien"]
    return [
        (document(user=users[n % 3]), [f"report {n} harbour section {s}" for s in range(n % 4 + 1)]) for n in range(12)
    ]


async def test_an_index_of_the_earlier_layout_is_moved_on_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(lance_migration, "BATCH_ROWS", 4)  # a document's rows span batches
    monkeypatch.setattr(lance_migration, "FLUSH_ROWS", 9)
    corpus = legacy_corpus()
    write_legacy(tmp_path / "index", corpus)
    index = LanceChunkIndex(tmp_path / "index")
    with caplog.at_level(logging.INFO, logger="botgpt.adapters.lance_migration"):
        await index.load()
    try:
        await assert_moved(index, corpus)
        (line,) = [record.getMessage() for record in caplog.records if record.levelno == logging.INFO]
        assert f"30 chunks of 12 documents from 1 tables (chunks_{DIMENSION}) into 3 tables" in line
    finally:
        await index.close()


async def test_an_interrupted_move_is_finished_by_the_next_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lance_migration, "BATCH_ROWS", 4)
    monkeypatch.setattr(lance_migration, "FLUSH_ROWS", 9)
    corpus = legacy_corpus()
    write_legacy(tmp_path / "index", corpus)
    add, calls = ChunkTables.add, []

    def crash_on_the_third_write(self: ChunkTables, name: str, rows: Any) -> None:
        calls.append(name)
        if len(calls) == 3:
            raise Stopped  # the process is stopped mid-move
        add(self, name, rows)

    interrupted = LanceChunkIndex(tmp_path / "index")
    with monkeypatch.context() as patch:
        patch.setattr(ChunkTables, "add", crash_on_the_third_write)
        with pytest.raises(Stopped):
            await interrupted.load()
    await interrupted.close()
    assert f"chunks_{DIMENSION}" in tables_of(tmp_path / "index")  # not dropped: the move is unfinished
    index = LanceChunkIndex(tmp_path / "index")
    await index.load()
    try:
        await assert_moved(index, corpus)
    finally:
        await index.close()


class Stopped(Exception):
    pass


async def assert_moved(index: LanceChunkIndex, corpus: Sequence[tuple[Document, Sequence[str]]]) -> None:
    tables = tables_of(index.path)
    assert f"chunks_{DIMENSION}" not in tables
    assert sum(rows for name, rows in tables.items() if name != "documents") == 30  # each chunk once
    assert await index.indexed_documents() == {doc.id for doc, _ in corpus}
    for user in ("alice", "bob", "o'brien"):
        owned = {doc.id: len(texts) for doc, texts in corpus if doc.user_id == user}
        hits = await index.lexical(scope(user), "harbour", k=100)
        assert sorted(hit.chunk.document_id for hit in hits) == sorted(d for d, n in owned.items() for _ in range(n))
        assert {hit.chunk.document_id for hit in await index.dense(scope(user), axis(0), k=100)} == set(owned)
    doc = corpus[0][0]
    await index.publish(doc, chunks_of(doc, ["replaced"]))  # the moved rows behave as published ones
    assert [hit.chunk.text for hit in await index.dense(scope(documents=[doc]), axis(0), k=10)] == ["replaced"]


async def test_a_scope_naming_every_document_searches_unfiltered_but_never_sees_one_in_ingestion(
    tmp_path: Path, index: LanceChunkIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready = [document() for _ in range(3)]
    for doc in ready:
        await index.publish(doc, chunks_of(doc, ["harbour wall", "harbour light"]))
    filters: list[str | None] = []
    original = lance_index._scope_filter

    def recorded(*args: Any) -> str | None:
        filters.append(original(*args))
        return filters[-1]

    monkeypatch.setattr(lance_index, "_scope_filter", recorded)
    everything = scope(documents=ready)
    assert {hit.chunk.document_id for hit in await index.dense(everything, axis(0), k=10)} == {d.id for d in ready}
    assert {hit.chunk.document_id for hit in await index.lexical(everything, "harbour", k=10)} == {d.id for d in ready}
    assert filters == [None, None]  # the whole corpus: no mask at all
    # Another process appends a document still in ingestion; this one's statistics predate it.
    other = LanceChunkIndex(index.path)
    await other.load()
    try:
        pending = document()
        await other.append(pending, chunks_of(pending, ["harbour gate", "harbour bell"]))
    finally:
        await other.close()
    dense = await index.dense(everything, axis(0), k=10)
    lexical = await index.lexical(everything, "harbour", k=10)
    assert pending.id not in {hit.chunk.document_id for hit in [*dense, *lexical]}
    assert filters[-2:] != [None, None]  # the row count moved: the filter is back
    some = scope(documents=ready[:2])
    assert {hit.chunk.document_id for hit in await index.dense(some, axis(0), k=10)} == {d.id for d in ready[:2]}
