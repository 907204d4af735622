"""SQLite document store: documents, chunks with float32 vectors, and the ingestion queue."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from botgpt.adapters.records import VECTOR, RecordMap
from botgpt.adapters.sqlite_db import SQLITE, SqliteDatabase, insert_statement, stamp
from botgpt.domain.errors import DocumentNotFound
from botgpt.domain.model import AttributeValue, Chunk, Document, IngestionJob, JobCounts

DOCUMENTS = RecordMap(Document, SQLITE)
_DOCUMENT_COLUMNS = DOCUMENTS.column_list
_INSERT_DOCUMENT = insert_statement("documents", DOCUMENTS.keys)
_UPDATE_DOCUMENT = f"UPDATE documents SET {', '.join(f'{key} = ?' for key in DOCUMENTS.keys)} WHERE id = ?"


CHUNKS = RecordMap(Chunk, SQLITE, renamed={"start": "start_offset", "end": "end_offset"}, codecs={"vector": VECTOR})


class SqliteDocumentStore:
    """Documents, chunks and jobs in SQLite. Vectors are little-endian float32 BLOBs."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._database = database
        self._db = database.connection

    async def add_document(self, document: Document) -> None:
        def work() -> None:
            self._db.execute(
                _INSERT_DOCUMENT,
                DOCUMENTS.values(document),
            )
            self._db.execute(
                "INSERT INTO ingestion_jobs (document_id, created_at) VALUES (?, ?)",
                (document.id, stamp(document.created_at)),
            )

        await self._database.transaction(work)

    async def requeue(self, document: Document) -> None:
        def work() -> None:
            self._db.execute(_UPDATE_DOCUMENT, (*DOCUMENTS.values(document), document.id))
            self._db.execute(
                "INSERT OR IGNORE INTO ingestion_jobs (document_id, created_at) VALUES (?, ?)",
                (document.id, stamp(document.updated_at)),
            )

        await self._database.transaction(work)

    async def get_document(self, user_id: str | None, document_id: str) -> Document | None:
        sql = f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE id = ?"
        row = await self._database.run(lambda: self._db.execute(sql, (document_id,)).fetchone())
        if row is None or (user_id is not None and row["user_id"] != user_id):
            return None
        return DOCUMENTS.load(row)

    async def find_by_hash(self, user_id: str, sha256: str) -> Document | None:
        sql = f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE user_id = ? AND sha256 = ?"
        row = await self._database.run(lambda: self._db.execute(sql, (user_id, sha256)).fetchone())
        return None if row is None else DOCUMENTS.load(row)

    async def list_documents(self, user_id: str, limit: int, offset: int) -> list[Document]:
        sql = (
            f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE user_id = ?"
            " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
        )
        rows = await self._database.run(lambda: self._db.execute(sql, (user_id, limit, offset)).fetchall())
        return [DOCUMENTS.load(row) for row in rows]

    async def count_documents(self, user_id: str) -> int:
        sql = "SELECT COUNT(*) FROM documents WHERE user_id = ?"
        row = await self._database.run(lambda: self._db.execute(sql, (user_id,)).fetchone())
        return int(row[0])

    async def update_document(self, document: Document) -> None:
        sql = (
            "UPDATE documents SET status = ?, updated_at = ?, chunks_total = ?, chunks_embedded = ?,"
            " error = ?, embedder = ? WHERE id = ?"
        )
        params = (
            document.status.value,
            stamp(document.updated_at),
            document.chunks_total,
            document.chunks_embedded,
            document.error,
            document.embedder,
            document.id,
        )
        await self._database.run(lambda: self._db.execute(sql, params))

    async def set_attributes(self, document_id: str, attributes: dict[str, AttributeValue], at: datetime) -> bool:
        sql = "UPDATE documents SET attributes = ?, updated_at = ? WHERE id = ?"
        params = (DOCUMENTS.encode("attributes", attributes), stamp(at), document_id)
        return bool(await self._database.run(lambda: self._db.execute(sql, params).rowcount))

    async def ready_attributes(self, user_id: str) -> dict[str, dict[str, AttributeValue]]:
        sql = "SELECT id, attributes FROM documents WHERE user_id = ? AND status = 'ready'"
        rows = await self._database.run(lambda: self._db.execute(sql, (user_id,)).fetchall())
        return {row[0]: DOCUMENTS.decode("attributes", row[1]) for row in rows}

    async def delete_document(self, document_id: str) -> bool:
        def work() -> bool:
            self._db.execute("DELETE FROM chunks WHERE document_id = ?", (document_id,))
            self._db.execute("DELETE FROM ingestion_jobs WHERE document_id = ?", (document_id,))
            return self._db.execute("DELETE FROM documents WHERE id = ?", (document_id,)).rowcount > 0

        return await self._database.transaction(work)

    async def claim_job(self, worker: str, now: datetime, lease_until: datetime) -> IngestionJob | None:
        # One statement: the pick and the lease are atomic, even across processes.
        sql = (
            "UPDATE ingestion_jobs SET worker = ?, lease_until = ?, attempts = attempts + 1"
            " WHERE document_id = (SELECT document_id FROM ingestion_jobs"
            "   WHERE lease_until IS NULL OR lease_until < ? ORDER BY created_at LIMIT 1)"
            " RETURNING document_id, attempts"
        )
        params = (worker, stamp(lease_until), stamp(now))
        row = await self._database.transaction(lambda: self._db.execute(sql, params).fetchone())
        if row is None:
            return None
        return IngestionJob(document_id=row[0], worker=worker, lease_until=lease_until, attempts=row[1])

    async def renew_lease(self, job: IngestionJob, lease_until: datetime) -> bool:
        sql = "UPDATE ingestion_jobs SET lease_until = ? WHERE document_id = ? AND worker = ?"
        params = (stamp(lease_until), job.document_id, job.worker)
        return bool(await self._database.run(lambda: self._db.execute(sql, params).rowcount))

    async def release_leases(self, worker: str) -> int:
        sql = "UPDATE ingestion_jobs SET worker = NULL, lease_until = NULL WHERE worker = ?"
        return int(await self._database.run(lambda: self._db.execute(sql, (worker,)).rowcount))

    async def job_counts(self, now: datetime) -> JobCounts:
        sql = (
            "SELECT COALESCE(SUM(lease_until IS NULL), 0), COALESCE(SUM(lease_until >= ?), 0),"
            " COALESCE(SUM(lease_until < ?), 0), MIN(created_at) FROM ingestion_jobs"
        )
        params = (stamp(now), stamp(now))
        row = await self._database.run(lambda: self._db.execute(sql, params).fetchone())
        oldest = datetime.fromisoformat(row[3]) if row[3] else None
        return JobCounts(queued=int(row[0]), running=int(row[1]), expired=int(row[2]), oldest_queued_at=oldest)

    async def finish_job(self, job: IngestionJob) -> None:
        sql = "DELETE FROM ingestion_jobs WHERE document_id = ? AND worker = ?"
        await self._database.run(lambda: self._db.execute(sql, (job.document_id, job.worker)))

    async def stored_chunk_count(self, document_id: str) -> int:
        sql = "SELECT COUNT(*) FROM chunks WHERE document_id = ?"
        row = await self._database.run(lambda: self._db.execute(sql, (document_id,)).fetchone())
        return int(row[0])

    async def add_chunks(self, document: Document, chunks: Sequence[Chunk], embedder: str) -> None:
        rows = [
            (
                c.document_id,
                c.ordinal,
                c.id,
                c.start,
                c.end,
                c.text,
                embedder,
                len(c.vector),
                c.vector.tobytes(),
            )
            for c in chunks
        ]

        def work() -> None:
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO chunks (document_id, ordinal, id, start_offset, end_offset, text,"
                    " embedder, dimension, vector) VALUES (?,?,?,?,?,?,?,?,?)",
                    rows,
                )
            except sqlite3.IntegrityError:  # the foreign key: the document was deleted meanwhile
                raise DocumentNotFound() from None
            self._db.execute(
                "UPDATE documents SET chunks_embedded = ?, updated_at = ?, embedder = ? WHERE id = ?",
                (document.chunks_embedded, stamp(document.updated_at), embedder, document.id),
            )

        await self._database.transaction(work)

    async def clear_chunks(self, document_id: str) -> None:
        sql = "DELETE FROM chunks WHERE document_id = ?"
        await self._database.run(lambda: self._db.execute(sql, (document_id,)))

    async def chunk_range(self, document_id: str, first: int, count: int) -> list[Chunk]:
        sql = (
            "SELECT document_id, ordinal, id, start_offset, end_offset, text, vector FROM chunks"
            " WHERE document_id = ? AND ordinal >= ? AND ordinal < ? ORDER BY ordinal"
        )
        params = (document_id, first, first + count)
        rows = await self._database.run(lambda: self._db.execute(sql, params).fetchall())
        return [CHUNKS.load(row) for row in rows]

    async def chunks_of(self, document_id: str) -> list[Chunk]:
        sql = (
            "SELECT document_id, ordinal, id, start_offset, end_offset, text, vector FROM chunks"
            " WHERE document_id = ? ORDER BY ordinal"
        )
        rows = await self._database.run(lambda: self._db.execute(sql, (document_id,)).fetchall())
        return [CHUNKS.load(row) for row in rows]
