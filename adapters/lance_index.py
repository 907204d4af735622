"""The ``lance`` chunk index: LanceDB tables on local disk, the embedded default.

Each user's chunks from each embedder have a table of their own (named by a digest of the
two), so a search over a user's whole corpus is a plain search of one table, with no filter,
and another user's chunks are not in the table searched at all; a scope naming documents
filters that user's rows through the index on ``document_id``. BM25 statistics are
per user, so one user's uploads never change another's ranking. A small directory table
maps each document to its table, for removals (given only ids) and the orphan sweep.

Vectors, chunk text and the analysed terms live in Lance's columnar files under the data
directory, not in a worker's RAM; Lance's caches are bounded by ``cache_bytes``. Dense search
is exact (a flat scan) until the scope holds more than ``flat_limit`` chunks, then
approximate through an IVF-HNSW index that maintenance builds once a table holds
``ann_min_rows``. Lexical search is Lance's BM25 inverted index over terms the shared
``Analyzer`` produced, so stemming and stop words match every other built-in index.

An index of the earlier layout (every user in one table per dimension) is moved to this one
when it is opened; see ``lance_migration``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import attrs

from botgpt.adapters.lance_directory import Directory, FileLock, list_tables
from botgpt.adapters.lance_migration import migrate_legacy
from botgpt.adapters.lance_rows import (
    RESULT_COLUMNS,
    chunk_from_row,
    chunk_rows,
    documents_filter,
    is_legacy_table,
    table_name,
)
from botgpt.adapters.lance_tables import ChunkTables, TableStats, maintain
from botgpt.adapters.text_analysis import Analyzer
from botgpt.domain.model import Chunk, Document, ScoredChunk, SearchScope, Vector

log = logging.getLogger(__name__)
T = TypeVar("T")


@attrs.frozen
class LanceTuning:
    """When the index switches strategy, and how hard approximate search looks."""

    flat_limit: int = 20_000
    ann_min_rows: int = 50_000
    optimize_every: int = 64
    # Maintenance updates every index of a table, which costs far more once the vector index
    # exists: at most one run in this many seconds, however fast documents arrive.
    maintenance_interval: float = 60.0
    quiet_seconds: float = 30.0
    nprobes: int = 32
    refine_factor: int = 4
    cache_bytes: int = 256 << 20
    # How stale a table's row count and index list may be when a search plans with them.
    stats_seconds: float = 10.0


class LanceChunkIndex:
    """Chunks of ready documents in LanceDB, one table per user and embedder."""

    name = "lance"

    def __init__(self, path: Path, tuning: LanceTuning | None = None) -> None:
        self._path = path
        self._tuning = tuning or LanceTuning()
        self._analyzer = Analyzer()
        # Several processes share the directory: one of them creates a table, moves the old
        # layout or maintains a table at a time.
        self._lock = FileLock(path / ".lock")
        self._directory: Directory
        self._tables: ChunkTables
        self._since_optimize = 0
        # Lance calls block: they run on these threads, never on the event loop. Maintenance
        # (compaction, index updates, building the vector index) has a thread of its own, so a
        # long index build never holds up a publish or a search.
        self._threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="botgpt-lance")
        self._maintenance = ThreadPoolExecutor(max_workers=1, thread_name_prefix="botgpt-lance-maintenance")
        self._maintaining: Future[None] | None = None
        self._scheduling = threading.Lock()
        self._maintained_at = -float("inf")
        self._last_write = -float("inf")

    @property
    def path(self) -> Path:
        """The database directory."""
        return self._path

    async def load(self) -> None:
        """Open (creating) the database directory, moving an index of the earlier layout."""
        if await self._run(self._open):
            # The moved tables want their indexes: built in the background, searchable meanwhile.
            self._maintaining = self._maintenance.submit(self._optimize_all, True)

    async def close(self) -> None:
        """Let running calls finish (maintenance not yet started is dropped) and release the threads."""
        self._maintenance.shutdown(wait=True, cancel_futures=True)
        self._threads.shutdown(wait=True)

    async def publish(self, document: Document, chunks: Sequence[Chunk]) -> None:
        if chunks:
            await self._run(lambda: self._publish(document, chunks))
        else:
            await self.remove([document.id])

    async def append(self, document: Document, chunks: Sequence[Chunk]) -> None:
        if chunks:
            await self._run(lambda: self._append(document, chunks))

    async def remove(self, document_ids: Sequence[str]) -> None:
        if document_ids:
            await self._run(lambda: self._remove(document_ids))

    async def indexed_documents(self) -> set[str]:
        return await self._run(lambda: self._directory.document_ids())

    async def dense(self, scope: SearchScope, vector: Vector, k: int) -> list[ScoredChunk]:
        if scope.is_empty:
            return []
        rows = await self._run(lambda: self._dense(scope, vector, k))
        return [
            ScoredChunk(chunk_from_row(row), 1.0 - float(row["_distance"]), (("dense", r),))
            for r, row in enumerate(rows, 1)
        ]

    async def lexical(self, scope: SearchScope, query: str, k: int) -> list[ScoredChunk]:
        terms = " ".join(dict.fromkeys(self._analyzer.terms(query)))
        if not terms or scope.is_empty:
            return []
        rows = await self._run(lambda: self._lexical(scope, terms, k))
        return [ScoredChunk(chunk_from_row(row), float(row["_score"]), (("bm25", r),)) for r, row in enumerate(rows, 1)]

    async def optimize(self) -> None:
        """Compact small files, fold new rows into the indexes, build the vector index once a
        table is large enough, and drop superseded versions, in the tables written since."""
        await asyncio.get_running_loop().run_in_executor(self._maintenance, lambda: self._optimize_all(quiet=True))

    # What follows runs on the Lance threads.

    async def _run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, work)

    def _open(self) -> bool:
        import lancedb

        self._path.mkdir(parents=True, exist_ok=True)
        cache = self._tuning.cache_bytes
        session = lancedb.Session(index_cache_size_bytes=cache, metadata_cache_size_bytes=cache // 4)
        # Strong consistency: another process's publish or delete is seen by the next query.
        db = lancedb.connect(self._path, read_consistency_interval=timedelta(0), session=session)
        tuning = self._tuning
        self._directory = Directory(db, self._lock, tuning.optimize_every, self._threads.submit)
        self._tables = ChunkTables(db, self._directory, self._lock, tuning.stats_seconds, tuning.flat_limit)
        if not any(map(is_legacy_table, list_tables(db))):
            return False
        with self._lock():
            legacy = [name for name in list_tables(db) if is_legacy_table(name)]  # not moved meanwhile
            if legacy:
                migrate_legacy(db, legacy, self._tables, self._directory)
        return bool(legacy)

    def _publish(self, document: Document, chunks: Sequence[Chunk]) -> None:
        table = table_name(document.user_id, document.embedder or "")
        placed = self._directory.placements([document.id])
        for held in {*placed, table}:  # the target too: entries a lost race left unlisted
            self._tables.delete(held, [document.id])
        if stale := set(placed) - {table}:  # its embedder changed: listed under the old table
            self._directory.forget([document.id], stale)
        self._add(document, chunks, listed=table in placed)

    def _append(self, document: Document, chunks: Sequence[Chunk]) -> None:
        table = table_name(document.user_id, document.embedder or "")
        self._add(document, chunks, listed=self._directory.lists(document.id, table))

    def _add(self, document: Document, chunks: Sequence[Chunk], listed: bool) -> None:
        table = table_name(document.user_id, document.embedder or "")
        if not listed:  # listed before the chunks go in: a crash between leaves a row remove clears
            self._directory.record([(document.id, table, document.user_id, document.embedder or "")])
        self._tables.add(table, chunk_rows(document, chunks, self._analyzer))
        self._last_write = time.monotonic()
        self._since_optimize += 1
        if self._since_optimize >= self._tuning.optimize_every:
            self._maintain_soon()

    def _remove(self, document_ids: Sequence[str]) -> None:
        placed = self._directory.placements(document_ids)
        for table, held in placed.items():
            self._tables.delete(table, held)
        if placed:  # after the chunks: a crash between leaves rows the next removal clears
            self._directory.forget(document_ids)

    def _maintain_soon(self) -> None:
        with self._scheduling:
            idle = self._maintaining is None or self._maintaining.done()
            if idle and time.monotonic() - self._maintained_at >= self._tuning.maintenance_interval:
                self._since_optimize = 0
                self._maintaining = self._maintenance.submit(self._optimize_all)

    def _dense(self, scope: SearchScope, vector: Vector, k: int) -> list[dict[str, Any]]:
        name = table_name(scope.user_id, scope.embedder)
        table = self._tables.find(name)
        if table is None:  # the user has no chunks from this embedder
            return []
        stats = self._tables.stats(name, table)
        if stats.dimension != len(vector):
            return []
        query = table.search(list(vector), vector_column_name="vector").distance_type("cosine")
        if (where := _scope_filter(stats, table, scope)) is not None:
            query = query.where(where, prefilter=True)
        query = query.select([*RESULT_COLUMNS, "_distance"]).limit(k)
        if stats.vector_index and _scope_size(stats, scope) > self._tuning.flat_limit:
            query = query.nprobes(self._tuning.nprobes).refine_factor(self._tuning.refine_factor)
        else:
            query = query.bypass_vector_index()
        rows: list[dict[str, Any]] = query.to_list()
        return rows

    def _lexical(self, scope: SearchScope, terms: str, k: int) -> list[dict[str, Any]]:
        # A table caught before its text index is searched without it.
        name = table_name(scope.user_id, scope.embedder)
        table = self._tables.find(name)
        if table is None:
            return []
        query = table.search(terms, query_type="fts", fts_columns="terms")
        stats = self._tables.stats(name, table)
        if (where := _scope_filter(stats, table, scope)) is not None:
            query = query.where(where, prefilter=True)
        rows: list[dict[str, Any]] = query.select([*RESULT_COLUMNS, "_score"]).limit(k).to_list()
        return rows

    def _optimize_all(self, quiet: bool = False) -> None:
        # Building the vector index takes minutes on a large table, and a build that overlaps
        # many publishes cannot commit (LanceDB gives up on the conflicts): build it once
        # writes have paused, or when asked outright. Only tables written since the last run
        # are visited; one left unfinished is visited again next time.
        quiet = quiet or time.monotonic() - self._last_write >= self._tuning.quiet_seconds
        for name in self._tables.take_dirty():
            table = self._tables.find(name)
            if table is not None:
                with self._lock():
                    done = maintain(table, quiet, self._tuning.ann_min_rows)
                if not done:
                    self._tables.touched([name])
        self._directory.compact()
        self._maintained_at = time.monotonic()


def _scope_filter(stats: TableStats, table: Any, scope: SearchScope) -> str | None:
    """The filter that keeps the scope's rows, or None when the scope names every document the
    table holds (a user's whole corpus, the usual case): an unfiltered search is many times
    faster than one under a mask of 100k rows. A table whose row count moved since its
    statistics were read (another process published) keeps the filter: a document still in
    ingestion must not show up."""
    if scope.document_ids is None:
        return None
    covered = bool(stats.document_ids) and stats.document_ids <= scope.document_ids
    if covered and table.count_rows() == stats.rows:
        return None
    return documents_filter(scope.document_ids)


def _scope_size(stats: TableStats, scope: SearchScope) -> int:
    """About how many chunks the scope holds: its documents at the table's mean chunks per
    document (counting the scope's rows would cost every query a pass over the index)."""
    if scope.document_ids is None:
        return stats.rows
    return min(stats.rows, len(scope.document_ids) * stats.rows // max(stats.documents, 1))
