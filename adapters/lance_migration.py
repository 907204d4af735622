"""Moving an index of the earlier layout to the tenant tables.

The earlier layout kept every user's chunks in one table per vector dimension
(``chunks_384``). Its rows are streamed in batches, grouped by user and embedder into the
tenant tables, recorded in the directory, and the old table is dropped once all its rows
are moved. An interrupted move is finished by the next start: a document the directory
already lists is replaced, as a publish would, so no chunk is moved twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import attrs

from botgpt.adapters.lance_directory import Directory
from botgpt.adapters.lance_rows import table_name
from botgpt.adapters.lance_tables import ChunkTables

log = logging.getLogger(__name__)
BATCH_ROWS = 8192
# Rows held before they are written: bounds memory (about 30 MB at 384 dimensions) while
# keeping the tenant tables' files few.
FLUSH_ROWS = 20_000


@attrs.define
class _Move:
    """One legacy table's move: what is seen so far and what waits to be written."""

    already: set[tuple[str, str]]
    seen: set[tuple[str, str]] = attrs.Factory(set)
    pending: dict[str, list[Any]] = attrs.Factory(dict)
    pending_rows: int = 0
    chunks: int = 0


def migrate_legacy(db: Any, names: list[str], tables: ChunkTables, directory: Directory) -> None:
    """Move every row of the legacy tables ``names`` into the tenant tables, then drop them.

    The caller holds the lock, so one process moves them while the others wait.
    """
    started, already = time.monotonic(), directory.pairs()  # pairs left by an interrupted move
    chunks, documents, tenants = 0, set[str](), set[str]()
    for name in names:
        move = _Move(already)
        for batch in db.open_table(name).search().to_batches(BATCH_ROWS):
            _take(move, batch, tables, directory)
            if move.pending_rows >= FLUSH_ROWS:
                _flush(move, tables)
        _flush(move, tables)
        db.drop_table(name)
        chunks += move.chunks
        documents.update(document_id for document_id, _ in move.seen)
        tenants.update(table for _, table in move.seen)
    log.info(
        "moved the chunk index to one table per user and embedder: %d chunks of %d documents"
        " from %d tables (%s) into %d tables in %.1f s",
        chunks,
        len(documents),
        len(names),
        ", ".join(names),
        len(tenants),
        time.monotonic() - started,
    )


def _take(move: _Move, batch: Any, tables: ChunkTables, directory: Directory) -> None:
    entries: list[tuple[str, str, str, str]] = []
    for (user_id, embedder), part in _by_tenant(batch):
        table = table_name(user_id, embedder)
        resumed: set[str] = set()
        for document_id in set(part.column("document_id").to_pylist()):
            if (document_id, table) in move.seen:
                continue
            move.seen.add((document_id, table))
            if (document_id, table) in move.already:
                resumed.add(document_id)
            else:
                entries.append((document_id, table, user_id, embedder))
        if resumed:  # moved in part by an interrupted run: replaced, as a publish would
            tables.delete(table, resumed)
        move.pending.setdefault(table, []).append(part)
        move.pending_rows += part.num_rows
        move.chunks += part.num_rows
    directory.record(entries)  # before the chunks, as a publish does


def _flush(move: _Move, tables: ChunkTables) -> None:
    import pyarrow as pa

    for table, parts in move.pending.items():
        tables.add(table, pa.Table.from_batches(parts))
    move.pending, move.pending_rows = {}, 0


def _by_tenant(batch: Any) -> Iterator[tuple[tuple[str, str], Any]]:
    import pyarrow as pa

    groups: dict[tuple[str, str], list[int]] = {}
    keys = zip(batch.column("user_id").to_pylist(), batch.column("embedder").to_pylist(), strict=True)
    for row, (user_id, embedder) in enumerate(keys):
        groups.setdefault((user_id, embedder or ""), []).append(row)
    for key, rows in groups.items():
        yield key, batch.take(pa.array(rows, pa.int64()))
