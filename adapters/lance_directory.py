"""The directory of the ``lance`` index: which tenant table holds each document; and the
lock and the opening that the processes sharing the database directory agree on."""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from botgpt.adapters.lance_rows import documents_filter, quoted

log = logging.getLogger(__name__)
DIRECTORY_TABLE = "documents"
# Superseded versions kept for readers still on them (another process's query in flight).
KEEP_VERSIONS = timedelta(minutes=5)


class FileLock:
    """Exclusive across the processes sharing the directory (``flock``) and across this
    process's threads; the thread holding it may take it again (migration creates tables)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._threads = threading.RLock()
        self._depth = 0
        self._file: IO[str] | None = None

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._threads:
            if self._depth == 0:
                self._file = self._path.open("a")
                fcntl.flock(self._file, fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._file is not None:
                    fcntl.flock(self._file, fcntl.LOCK_UN)
                    self._file.close()
                    self._file = None


Lock = Callable[[], AbstractContextManager[None]]


def open_or_create(db: Any, name: str, lock: Lock, create: Callable[[], Any]) -> Any:
    """The table ``name``, created by ``create`` under the lock if no process has yet."""
    table = try_open(db, name)
    if table is None:
        with lock():
            table = try_open(db, name) or create()
    return table


def try_open(db: Any, name: str) -> Any | None:
    """The table ``name``, or None if it does not exist (yet: another process may create it)."""
    try:
        return db.open_table(name)
    except ValueError as error:
        if "not found" in str(error):
            return None
        raise


class Directory:
    """Which table holds each indexed document's chunks, so that a removal given only ids goes
    straight to the right tables and the indexed documents are listed without reading chunks.

    A document has a row per table holding its chunks (one, unless its embedder changed).
    Writers order their steps so that a crash leaves at most rows without chunks, which
    ``remove`` clears: a row is written before the chunks and deleted after them. Every
    ``compact_every`` writes, ``background`` runs a compaction.
    """

    def __init__(
        self, db: Any, lock: Lock, compact_every: int, background: Callable[[Callable[[], None]], Any]
    ) -> None:
        self.table = open_or_create(db, DIRECTORY_TABLE, lock, lambda: self._create(db))
        self._compact_every = compact_every
        self._background = background
        self._writes = 0
        self._counting = threading.Lock()
        self._compacting = threading.Lock()

    @staticmethod
    def _create(db: Any) -> Any:
        import pyarrow as pa
        from lancedb.index import BTree

        columns = ("document_id", "chunk_table", "user_id", "embedder")
        table = db.create_table(DIRECTORY_TABLE, schema=pa.schema([(column, pa.string()) for column in columns]))
        table.create_index("document_id", config=BTree())
        table.create_index("chunk_table", config=BTree())
        return table

    def lists(self, document_id: str, table: str) -> bool:
        """Whether the directory says ``table`` holds chunks of the document."""
        return bool(self.table.count_rows(f"document_id = {quoted(document_id)} AND chunk_table = {quoted(table)}"))

    def placements(self, document_ids: Iterable[str]) -> dict[str, set[str]]:
        """The tables holding these documents' chunks, each with the documents it holds."""
        predicate = documents_filter(document_ids)
        if not self.table.count_rows(predicate):  # a count costs a fifth of the query
            return {}
        query = self.table.search().where(predicate).select(["document_id", "chunk_table"])
        found: dict[str, set[str]] = {}
        for row in query.to_list():
            found.setdefault(row["chunk_table"], set()).add(row["document_id"])
        return found

    def pairs(self) -> set[tuple[str, str]]:
        """Every (document, table) the directory holds."""
        found: set[tuple[str, str]] = set()
        for batch in self.table.search().select(["document_id", "chunk_table"]).to_batches():
            columns = batch.column("document_id").to_pylist(), batch.column("chunk_table").to_pylist()
            found.update(zip(*columns, strict=True))
        return found

    def document_ids(self) -> set[str]:
        """Every document with a row."""
        return {document_id for document_id, _ in self.pairs()}

    def record(self, entries: Iterable[tuple[str, str, str, str]]) -> None:
        """Add rows of (document id, table, user id, embedder)."""
        import pyarrow as pa

        rows = list(entries)
        if rows:
            columns = ("document_id", "chunk_table", "user_id", "embedder")
            self.table.add(pa.table({column: [row[n] for row in rows] for n, column in enumerate(columns)}))
            self._written()

    def forget(self, document_ids: Iterable[str], tables: Iterable[str] | None = None) -> None:
        """Delete the documents' rows (only those naming ``tables``, if given)."""
        predicate = documents_filter(document_ids)
        if tables is not None:
            predicate += f" AND chunk_table IN ({', '.join(map(quoted, sorted(tables)))})"
        # A delete writes a new version even when nothing matches; counting reads one column.
        if self.table.count_rows(predicate):
            self.table.delete(predicate)
            self._written()

    def compact(self) -> None:
        """Merge the small files each write adds and fold new rows into the indexes. No lock:
        a commit that conflicts with another process's fails, and the next compaction tries
        again."""
        if not self._compacting.acquire(blocking=False):  # one at a time is enough
            return
        try:
            self.table.optimize(cleanup_older_than=KEEP_VERSIONS)
        except Exception as error:  # the directory stays readable, only slower
            # Losing to a concurrent publish or removal is expected now and then; anything else is not.
            level = logging.DEBUG if "commit conflict" in str(error) else logging.WARNING
            log.log(level, "compacting the chunk index's document directory failed (%s); retried later", error)
        finally:
            self._compacting.release()

    def _written(self) -> None:
        # Every write adds a file and every lookup reads them all: the directory is compacted
        # every few dozen writes, not only when maintenance (a minute apart) comes round.
        with self._counting:
            self._writes += 1
            due = self._writes >= self._compact_every
            if due:
                self._writes = 0
        if due:
            self._background(self.compact)

    def count(self, table: str) -> int:
        """How many documents the table holds."""
        return int(self.table.count_rows(f"chunk_table = {quoted(table)}"))

    def documents_in(self, table: str) -> frozenset[str]:
        """The documents the table holds chunks of."""
        query = self.table.search().where(f"chunk_table = {quoted(table)}").select(["document_id"])
        found: set[str] = set()
        for batch in query.to_batches():
            found.update(batch.column("document_id").to_pylist())
        return frozenset(found)


def list_tables(db: Any) -> list[str]:
    """The names of every table in the database."""
    names: list[str] = []
    page = db.list_tables()
    while True:
        names.extend(page.tables)
        if not page.page_token:
            return names
        page = db.list_tables(page_token=page.page_token)
