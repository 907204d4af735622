"""The ``lance`` chunk index: LanceDB tables on local disk, the embedded default.

Vectors, chunk text and the analysed terms live in Lance's columnar files under the data
directory, not in a worker's RAM; Lance's caches are bounded by ``cache_bytes``. Dense search
is exact (a flat scan under the scope's filter) until the scope holds more than
``flat_limit`` chunks, then approximate through an IVF-HNSW index that ``optimize`` builds
once a table is large enough. Lexical search is Lance's BM25 inverted index over terms the
shared ``Analyzer`` produced, so stemming and stop words match every other built-in index.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import attrs

from botgpt.adapters.lance_rows import RESULT_COLUMNS, chunk_from_row, chunk_rows, quoted, scope_filter
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


class LanceChunkIndex:
    """Chunks of ready documents in LanceDB, one table per vector dimension."""

    name = "lance"

    def __init__(self, path: Path, tuning: LanceTuning | None = None) -> None:
        self._path = path
        self._tuning = tuning or LanceTuning()
        self._analyzer = Analyzer()
        self._db: Any = None
        self._tables: dict[int, Any] = {}
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
        """Open (creating) the database directory."""
        await self._run(self._open)

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
            await self._run(lambda: self._add(document, chunks))

    async def remove(self, document_ids: Sequence[str]) -> None:
        if document_ids:
            await self._run(lambda: self._remove(document_ids))

    async def indexed_documents(self) -> set[str]:
        return await self._run(self._document_ids)

    async def dense(self, scope: SearchScope, vector: Vector, k: int) -> list[ScoredChunk]:
        table = await self._run(lambda: self._table_of(len(vector)))
        if table is None or scope.is_empty:
            return []
        rows = await self._run(lambda: self._dense(table, scope, vector, k))
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
        table is large enough, and drop superseded versions."""
        await asyncio.get_running_loop().run_in_executor(self._maintenance, lambda: self._optimize_all(quiet=True))

    # What follows runs on the Lance threads.

    async def _run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, work)

    def _open(self) -> None:
        import lancedb

        self._path.mkdir(parents=True, exist_ok=True)
        cache = self._tuning.cache_bytes
        session = lancedb.Session(index_cache_size_bytes=cache, metadata_cache_size_bytes=cache // 4)
        # Strong consistency: another process's publish or delete is seen by the next query.
        self._db = lancedb.connect(self._path, read_consistency_interval=timedelta(0), session=session)
        for name in self._table_names():
            self._tables[int(name.removeprefix("chunks_"))] = self._db.open_table(name)

    def _table_names(self) -> list[str]:
        names: list[str] = []
        page = self._db.list_tables()
        while True:
            names.extend(name for name in page.tables if name.startswith("chunks_"))
            if not page.page_token:
                return names
            page = self._db.list_tables(page_token=page.page_token)

    def _table_of(self, dimension: int) -> Any:
        name = f"chunks_{dimension}"
        if dimension not in self._tables and name in self._table_names():
            self._tables[dimension] = self._db.open_table(name)
        return self._tables.get(dimension)

    def _publish(self, document: Document, chunks: Sequence[Chunk]) -> None:
        self._remove([document.id])
        self._add(document, chunks)

    def _add(self, document: Document, chunks: Sequence[Chunk]) -> None:
        dimension = len(chunks[0].vector)
        rows = chunk_rows(document, chunks, self._analyzer)
        table = self._table_of(dimension)
        if table is None:
            table = self._create(dimension, rows)
        else:
            table.add(rows)
        self._last_write = time.monotonic()
        self._since_optimize += 1
        if self._since_optimize >= self._tuning.optimize_every:
            self._maintain_soon()

    def _maintain_soon(self) -> None:
        with self._scheduling:
            idle = self._maintaining is None or self._maintaining.done()
            if idle and time.monotonic() - self._maintained_at >= self._tuning.maintenance_interval:
                self._since_optimize = 0
                self._maintaining = self._maintenance.submit(self._optimize_all)

    def _create(self, dimension: int, rows: Any) -> Any:
        from lancedb.index import FTS, BTree

        with self._exclusive():
            if self._table_of(dimension) is None:
                table = self._db.create_table(f"chunks_{dimension}", data=rows)
                table.create_index("document_id", config=BTree())
                table.create_index("user_id", config=BTree())
                # The terms are analysed already: the index only splits them.
                plain = FTS(
                    base_tokenizer="whitespace",
                    lower_case=False,
                    stem=False,
                    remove_stop_words=False,
                    ascii_folding=False,
                    max_token_length=None,
                )
                table.create_index("terms", config=plain)
                self._tables[dimension] = table
                return table
        table = self._tables[dimension]
        table.add(rows)
        return table

    def _remove(self, document_ids: Sequence[str]) -> None:
        predicate = f"document_id IN ({', '.join(map(quoted, document_ids))})"
        for table in self._all_tables():
            # Counting reads one column; a delete writes a new version even when nothing matches,
            # and every version makes the next operation slower (most publishes are of new documents).
            if table.count_rows(predicate):
                table.delete(predicate)

    def _all_tables(self) -> list[Any]:
        for name in self._table_names():
            self._table_of(int(name.removeprefix("chunks_")))
        return list(self._tables.values())

    def _document_ids(self) -> set[str]:
        found: set[str] = set()
        for table in self._all_tables():
            for batch in table.search().select(["document_id"]).to_batches():
                found.update(batch.column("document_id").to_pylist())
        return found

    def _dense(self, table: Any, scope: SearchScope, vector: Vector, k: int) -> list[dict[str, Any]]:
        where = scope_filter(scope)
        query = (
            table.search(list(vector), vector_column_name="vector")
            .distance_type("cosine")
            .where(where, prefilter=True)
            .select([*RESULT_COLUMNS, "_distance"])
            .limit(k)
        )
        if self._has_vector_index(table) and table.count_rows(where) > self._tuning.flat_limit:
            query = query.nprobes(self._tuning.nprobes).refine_factor(self._tuning.refine_factor)
        else:
            query = query.bypass_vector_index()
        rows: list[dict[str, Any]] = query.to_list()
        return rows

    def _lexical(self, scope: SearchScope, terms: str, k: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for table in self._all_tables():
            query = table.search(terms, query_type="fts", fts_columns="terms")
            selected = query.where(scope_filter(scope), prefilter=True).select([*RESULT_COLUMNS, "_score"])
            rows.extend(selected.limit(k).to_list())
        rows.sort(key=lambda row: -float(row["_score"]))
        return rows[:k]

    def _has_vector_index(self, table: Any) -> bool:
        return any(index.index_type.startswith("IVF") for index in table.list_indices())

    def _optimize_all(self, quiet: bool = False) -> None:
        # Building the vector index takes minutes on a large table, and a build that overlaps
        # many publishes cannot commit (LanceDB gives up on the conflicts): build it once
        # writes have paused, or when asked outright.
        quiet = quiet or time.monotonic() - self._last_write >= self._tuning.quiet_seconds
        for table in self._all_tables():
            self._optimize(table, quiet)
        self._maintained_at = time.monotonic()

    def _optimize(self, table: Any, build_vector_index: bool) -> None:
        from lancedb.index import HnswSq

        with self._exclusive():
            try:
                due = build_vector_index and table.count_rows() >= self._tuning.ann_min_rows
                if due and not self._has_vector_index(table):
                    table.create_index("vector", config=HnswSq(distance_type="cosine"))
                table.optimize(cleanup_older_than=timedelta(minutes=5))
            except Exception as error:  # maintenance may fail; the data stays searchable
                if "concurrent writers" in str(error):
                    # A long build lost the race with the documents published meanwhile: normal
                    # under a bulk load; the next run tries again, and searches scan what it missed.
                    log.warning("index maintenance deferred: documents were published during it")
                else:
                    log.exception("optimizing the lance index failed; it stays searchable and is retried later")

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        # Several processes share the directory: one of them creates a table or optimizes at a time.
        with (self._path / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
