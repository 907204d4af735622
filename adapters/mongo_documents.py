"""Documents, chunks and ingestion jobs in MongoDB."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bson import Binary
from pymongo import ASCENDING, DESCENDING, ReturnDocument

from botgpt.adapters.mongo_schema import MONGO, Database
from botgpt.adapters.records import VECTOR, RecordMap
from botgpt.domain.errors import DocumentNotFound
from botgpt.domain.model import AttributeValue, Chunk, Document, IngestionJob, JobCounts

DOCUMENTS = RecordMap(Document, MONGO)


CHUNKS = RecordMap(Chunk, MONGO, renamed={"id": "chunk_id"}, codecs={"vector": VECTOR})


class MongoDocumentStore:
    """Documents, chunks (float32 BinData vectors) and ingestion jobs in MongoDB.

    Jobs are claimed with one ``find_one_and_update``, atomic across processes and hosts.
    """

    def __init__(self, database: Database) -> None:
        self._documents = database["documents"]
        self._chunks = database["chunks"]
        self._jobs = database["ingestion_jobs"]
        self._members = database["collection_members"]

    async def add_document(self, document: Document) -> None:
        await self._documents.insert_one(DOCUMENTS.dump(document))
        job = {"_id": document.id, "worker": None, "lease_until": None, "attempts": 0}
        await self._jobs.insert_one({**job, "created_at": document.created_at})

    async def requeue(self, document: Document) -> None:
        await self._documents.replace_one({"_id": document.id}, DOCUMENTS.dump(document))
        job = {"worker": None, "lease_until": None, "attempts": 0, "created_at": document.updated_at}
        await self._jobs.update_one({"_id": document.id}, {"$setOnInsert": job}, upsert=True)

    async def get_document(self, user_id: str | None, document_id: str) -> Document | None:
        query: dict[str, Any] = {"_id": document_id}
        if user_id is not None:
            query["user_id"] = user_id
        doc = await self._documents.find_one(query)
        return None if doc is None else DOCUMENTS.load(doc)

    async def find_by_hash(self, user_id: str, sha256: str) -> Document | None:
        doc = await self._documents.find_one({"user_id": user_id, "sha256": sha256})
        return None if doc is None else DOCUMENTS.load(doc)

    async def list_documents(self, user_id: str, limit: int, offset: int) -> list[Document]:
        cursor = (
            self._documents.find({"user_id": user_id})
            .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
            .skip(offset)
            .limit(limit)
        )
        return [DOCUMENTS.load(doc) async for doc in cursor]

    async def count_documents(self, user_id: str) -> int:
        return int(await self._documents.count_documents({"user_id": user_id}))

    async def update_document(self, document: Document) -> None:
        fields = DOCUMENTS.dump(document)
        changes = {key: fields[key] for key in ("status", "updated_at", "chunks_total", "chunks_embedded", "error")}
        await self._documents.update_one({"_id": document.id}, {"$set": {**changes, "embedder": document.embedder}})

    async def set_attributes(self, document_id: str, attributes: dict[str, AttributeValue], at: datetime) -> bool:
        result = await self._documents.update_one(
            {"_id": document_id}, {"$set": {"attributes": dict(attributes), "updated_at": at}}
        )
        return bool(result.matched_count)

    async def ready_attributes(self, user_id: str) -> dict[str, dict[str, AttributeValue]]:
        cursor = self._documents.find({"user_id": user_id, "status": "ready"}, {"attributes": 1})
        return {doc["_id"]: dict(doc.get("attributes") or {}) async for doc in cursor}

    async def delete_document(self, document_id: str) -> bool:
        await self._members.delete_many({"document_id": document_id})
        await self._jobs.delete_one({"_id": document_id})
        await self._chunks.delete_many({"document_id": document_id})
        result = await self._documents.delete_one({"_id": document_id})
        return bool(result.deleted_count)

    async def claim_job(self, worker: str, now: datetime, lease_until: datetime) -> IngestionJob | None:
        doc = await self._jobs.find_one_and_update(
            {"$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}]},
            {"$set": {"worker": worker, "lease_until": lease_until}, "$inc": {"attempts": 1}},
            sort=[("created_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None
        return IngestionJob(document_id=doc["_id"], worker=worker, lease_until=lease_until, attempts=doc["attempts"])

    async def renew_lease(self, job: IngestionJob, lease_until: datetime) -> bool:
        result = await self._jobs.update_one(
            {"_id": job.document_id, "worker": job.worker}, {"$set": {"lease_until": lease_until}}
        )
        return bool(result.matched_count)

    async def release_leases(self, worker: str) -> int:
        result = await self._jobs.update_many({"worker": worker}, {"$set": {"worker": None, "lease_until": None}})
        return int(result.modified_count)

    async def job_counts(self, now: datetime) -> JobCounts:
        oldest = await self._jobs.find_one({}, sort=[("created_at", ASCENDING)], projection={"created_at": 1})
        return JobCounts(
            queued=int(await self._jobs.count_documents({"lease_until": None})),
            running=int(await self._jobs.count_documents({"lease_until": {"$gte": now}})),
            expired=int(await self._jobs.count_documents({"lease_until": {"$lt": now}})),
            oldest_queued_at=oldest["created_at"] if oldest else None,
        )

    async def finish_job(self, job: IngestionJob) -> None:
        await self._jobs.delete_one({"_id": job.document_id, "worker": job.worker})

    async def stored_chunk_count(self, document_id: str) -> int:
        return int(await self._chunks.count_documents({"document_id": document_id}))

    async def add_chunks(self, document: Document, chunks: Sequence[Chunk], embedder: str) -> None:
        if not await self._documents.count_documents({"_id": document.id}, limit=1):
            raise DocumentNotFound()
        # Upserts keyed by (document, ordinal): a resumed batch overwrites, never duplicates.
        # One call per chunk rather than bulk_write: mongomock's bulk API lags PyMongo's, and
        # ingestion is bound by the embedder (tens of chunks a second), not by these writes.
        for chunk in chunks:
            await self._chunks.replace_one(
                {"document_id": chunk.document_id, "ordinal": chunk.ordinal},
                {
                    "document_id": chunk.document_id,
                    "ordinal": chunk.ordinal,
                    "chunk_id": chunk.id,
                    "start": chunk.start,
                    "end": chunk.end,
                    "text": chunk.text,
                    "embedder": embedder,
                    "dimension": len(chunk.vector),
                    "vector": Binary(chunk.vector.tobytes()),
                },
                upsert=True,
            )
        await self._documents.update_one(
            {"_id": document.id},
            {
                "$set": {
                    "chunks_embedded": document.chunks_embedded,
                    "updated_at": document.updated_at,
                    "embedder": embedder,
                }
            },
        )

    async def clear_chunks(self, document_id: str) -> None:
        await self._chunks.delete_many({"document_id": document_id})

    async def chunk_range(self, document_id: str, first: int, count: int) -> list[Chunk]:
        query = {"document_id": document_id, "ordinal": {"$gte": first, "$lt": first + count}}
        cursor = self._chunks.find(query).sort("ordinal", ASCENDING)
        return [CHUNKS.load(doc) async for doc in cursor]

    async def chunks_of(self, document_id: str) -> list[Chunk]:
        cursor = self._chunks.find({"document_id": document_id}).sort("ordinal", ASCENDING)
        return [CHUNKS.load(doc) async for doc in cursor]
