"""The tenant chunk tables of the ``lance`` index: opened on demand, their indexes and their
statistics cached, and marked for maintenance when written."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import attrs

from botgpt.adapters.lance_directory import KEEP_VERSIONS, Directory, Lock, try_open
from botgpt.adapters.lance_rows import documents_filter

log = logging.getLogger(__name__)


def ensure_indexes(table: Any, indexed: set[tuple[str, ...]]) -> None:
    """Create the chunk table's scalar and text indexes not among ``indexed`` (a crash right
    after creating a table can leave them missing; maintenance adds them)."""
    from lancedb.index import FTS, BTree

    if ("document_id",) not in indexed:
        table.create_index("document_id", config=BTree())
    if ("terms",) not in indexed:
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


def indexed_columns(table: Any) -> set[tuple[str, ...]]:
    """The column sets the table has an index on."""
    return {tuple(index.columns) for index in table.list_indices()}


@attrs.frozen
class TableStats:
    """What a search plans with, read at most every ``stats_seconds``: the row count and, for a
    table over the flat limit (the only kind a plan may send to the vector index), whether it
    has one and how many documents it holds."""

    rows: int
    dimension: int
    read_at: float
    vector_index: bool = False
    documents: int = 0
    # Which documents the table holds: a scope naming all of them needs no filter.
    document_ids: frozenset[str] = frozenset()


class ChunkTables:
    """The tenant chunk tables of one connection, by name.

    A table another process created is found by the next query (a miss asks the database
    again); a bounded number stay open. Each table's statistics are cached for
    ``stats_seconds``, and the tables this process wrote are marked for maintenance.
    """

    def __init__(
        self,
        db: Any,
        directory: Directory,
        lock: Lock,
        stats_seconds: float,
        flat_limit: int,
        keep_open: int = 1024,
    ) -> None:
        self._db = db
        self._directory = directory
        self._lock = lock
        self._stats_seconds = stats_seconds
        self._flat_limit = flat_limit
        self._keep_open = keep_open
        self._open: OrderedDict[str, Any] = OrderedDict()
        self._stats: dict[str, TableStats] = {}
        self._dimensions: dict[str, int] = {}
        self._dirty: set[str] = set()
        self._guard = threading.Lock()  # the Lance threads and the maintenance thread share these

    def find(self, name: str) -> Any | None:
        """The table, or None if no process has created it."""
        with self._guard:
            table = self._open.get(name)
            if table is not None:
                self._open.move_to_end(name)
                return table
        table = try_open(self._db, name)
        if table is not None:
            self._keep(name, table)
        return table

    def add(self, name: str, rows: Any) -> None:
        """Add ``rows`` to the table, creating it if no process has yet."""
        table = self.find(name)
        if table is None:
            with self._lock():
                table = self.find(name)  # another process may have created it meanwhile
                if table is None:
                    self._create(name, rows)
                    self.touched([name])
                    return
        table.add(rows)
        self.touched([name])

    def delete(self, name: str, document_ids: Iterable[str]) -> None:
        """Delete the documents' chunks from the table, if it holds any."""
        table, predicate = self.find(name), documents_filter(document_ids)
        # A delete writes a new version even when nothing matches; counting reads one column.
        if table is not None and table.count_rows(predicate):
            table.delete(predicate)
            self.touched([name])

    def _create(self, name: str, rows: Any) -> Any:
        table = self._db.create_table(name, data=rows)
        ensure_indexes(table, set())
        self._keep(name, table)
        return table

    def stats(self, name: str, table: Any) -> TableStats:
        """The table's size and indexes, as of at most ``stats_seconds`` ago."""
        now = time.monotonic()
        with self._guard:
            cached, dimension = self._stats.get(name), self._dimensions.get(name)
        if cached is not None and now - cached.read_at < self._stats_seconds:
            return cached
        if dimension is None:  # a table's schema never changes
            dimension = int(table.schema.field("vector").type.list_size)
        rows = table.count_rows()
        held = self._directory.documents_in(name)
        stats = TableStats(rows, dimension, now, documents=len(held), document_ids=held)
        if rows > self._flat_limit and ("vector",) in indexed_columns(table):
            stats = attrs.evolve(stats, vector_index=True)
        with self._guard:
            self._stats[name], self._dimensions[name] = stats, dimension
        return stats

    def touched(self, names: Iterable[str]) -> None:
        """These tables changed here: their statistics are stale and maintenance is due."""
        with self._guard:
            for name in names:
                self._dirty.add(name)
                self._stats.pop(name, None)

    def take_dirty(self) -> list[str]:
        """The tables changed since the last call (maintenance marks back what it could not finish)."""
        with self._guard:
            names, self._dirty = sorted(self._dirty), set()
        return names

    def _keep(self, name: str, table: Any) -> None:
        with self._guard:
            self._open[name] = table
            while len(self._open) > self._keep_open:
                evicted, _ = self._open.popitem(last=False)
                self._stats.pop(evicted, None)
                self._dimensions.pop(evicted, None)


def maintain(table: Any, build_vector_index: bool, ann_min_rows: int) -> bool:
    """Compact the chunk table, add any index missing, fold new rows into the indexes, drop
    superseded versions and, when allowed, build the vector index once the table is large
    enough. False if work remains for a later run (the vector index, or a failure)."""
    from lancedb.index import HnswSq

    try:
        remaining = False
        indexed = indexed_columns(table)
        ensure_indexes(table, indexed)
        if ("vector",) not in indexed and table.count_rows() >= ann_min_rows:
            if build_vector_index:
                table.create_index("vector", config=HnswSq(distance_type="cosine"))
            else:
                remaining = True
        table.optimize(cleanup_older_than=KEEP_VERSIONS)
        return not remaining
    except Exception as error:  # maintenance may fail; the data stays searchable
        if "concurrent writers" in str(error):
            # A long build lost the race with the documents published meanwhile: normal under
            # a bulk load; the next run tries again, and searches scan what it missed.
            log.warning("index maintenance deferred: documents were published during it")
        else:
            log.exception("optimizing the lance index failed; it stays searchable and is retried later")
        return False
