"""MongoDB stores on motor. The driver is used only in this module (and ``mongo_client``), so
the move from motor to PyMongo's async API touches nothing else.

Collections: ``conversations``, ``messages``, ``documents``, ``chunks``, ``ingestion_jobs``.
Ids are botgpt's own (``_id`` never leaves this module). Vectors are float32 BinData.
Every listing is an indexed sort and every multi-document read streams its cursor.
"""

from __future__ import annotations

import array
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import attrs
from bson import Binary
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from botgpt.domain.errors import ConversationNotFound
from botgpt.domain.model import (
    ApiKey,
    Chunk,
    Citation,
    Conversation,
    Document,
    DocumentStatus,
    IngestionJob,
    ListPosition,
    Message,
    Mode,
    Role,
    UsageTotals,
)

Database = Any  # motor's AsyncIOMotorDatabase (untyped)

INDEXES: Mapping[str, list[IndexModel]] = {
    "conversations": [IndexModel([("user_id", ASCENDING), ("updated_at", DESCENDING), ("_id", DESCENDING)])],
    "messages": [IndexModel([("conversation_id", ASCENDING), ("seq", ASCENDING)], unique=True)],
    "documents": [
        IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]),
        IndexModel([("user_id", ASCENDING), ("sha256", ASCENDING)], unique=True),
    ],
    "chunks": [IndexModel([("document_id", ASCENDING), ("ordinal", ASCENDING)], unique=True)],
    "ingestion_jobs": [IndexModel([("lease_until", ASCENDING), ("created_at", ASCENDING)])],
    "api_keys": [IndexModel([("prefix", ASCENDING)], unique=True), IndexModel([("revoked_at", ASCENDING)])],
    "usage_daily": [
        IndexModel([("user_id", ASCENDING), ("key_id", ASCENDING), ("day", ASCENDING)], unique=True),
        IndexModel([("key_id", ASCENDING), ("day", ASCENDING)]),
    ],
    # Minute buckets expire by themselves ten minutes after they start.
    "request_counts": [
        IndexModel([("key_id", ASCENDING), ("minute", ASCENDING)], unique=True),
        IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0),
    ],
}


async def ensure_indexes(database: Database) -> None:
    """Create the indexes every query here relies on (idempotent)."""
    for collection, indexes in INDEXES.items():
        await database[collection].create_indexes(indexes)


def _conversation_doc(conversation: Conversation) -> dict[str, Any]:
    return {
        "_id": conversation.id,
        "user_id": conversation.user_id,
        "title": conversation.title,
        "mode": conversation.mode.value,
        "document_ids": list(conversation.document_ids),
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
        "message_count": conversation.message_count,
        "total_tokens": conversation.total_tokens,
        "prompt_tokens": conversation.prompt_tokens,
        "completion_tokens": conversation.completion_tokens,
    }


def _conversation(doc: Mapping[str, Any]) -> Conversation:
    return Conversation(
        id=doc["_id"],
        user_id=doc["user_id"],
        title=doc["title"],
        mode=Mode(doc["mode"]),
        document_ids=tuple(doc["document_ids"]),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        message_count=doc["message_count"],
        total_tokens=doc["total_tokens"],
        prompt_tokens=doc.get("prompt_tokens", 0),
        completion_tokens=doc.get("completion_tokens", 0),
    )


def _message_doc(message: Message, seq: int) -> dict[str, Any]:
    return {
        "_id": message.id,
        "conversation_id": message.conversation_id,
        "seq": seq,
        "role": message.role.value,
        "content": message.content,
        "created_at": message.created_at,
        "tokens": message.tokens,
        "model": message.model,
        "prompt_tokens": message.prompt_tokens,
        "completion_tokens": message.completion_tokens,
        "citations": [attrs.asdict(citation) for citation in message.citations],
    }


def _message(doc: Mapping[str, Any]) -> Message:
    return Message(
        id=doc["_id"],
        conversation_id=doc["conversation_id"],
        role=Role(doc["role"]),
        content=doc["content"],
        created_at=doc["created_at"],
        tokens=doc["tokens"],
        model=doc["model"],
        prompt_tokens=doc["prompt_tokens"],
        completion_tokens=doc["completion_tokens"],
        citations=tuple(Citation(**item) for item in doc.get("citations", [])),
    )


class MongoConversationStore:
    """Conversations and messages in MongoDB.

    A message's ``seq`` comes from atomically incrementing its conversation's ``next_seq``,
    so concurrent turns never collide and order is insertion order.
    """

    def __init__(self, database: Database) -> None:
        self._conversations = database["conversations"]
        self._messages = database["messages"]
        self._database = database

    async def add_conversation(self, conversation: Conversation, messages: Sequence[Message]) -> None:
        await self._conversations.insert_one({**_conversation_doc(conversation), "next_seq": len(messages)})
        if messages:
            await self._messages.insert_many([_message_doc(m, seq) for seq, m in enumerate(messages)])

    async def append_messages(self, conversation: Conversation, messages: Sequence[Message]) -> None:
        before = await self._conversations.find_one_and_update(
            {"_id": conversation.id},
            {
                "$inc": {
                    "message_count": len(messages),
                    "total_tokens": sum(m.tokens for m in messages),
                    "prompt_tokens": sum(m.prompt_tokens for m in messages),
                    "completion_tokens": sum(m.completion_tokens for m in messages),
                    "next_seq": len(messages),
                },
                "$set": {"updated_at": conversation.updated_at},
            },
            return_document=ReturnDocument.BEFORE,
        )
        if before is None:
            raise ConversationNotFound("conversation not found")
        first = before["next_seq"]
        await self._messages.insert_many([_message_doc(m, first + n) for n, m in enumerate(messages)])

    async def get_conversation(self, user_id: str | None, conversation_id: str) -> Conversation | None:
        query: dict[str, Any] = {"_id": conversation_id}
        if user_id is not None:
            query["user_id"] = user_id
        doc = await self._conversations.find_one(query)
        return None if doc is None else _conversation(doc)

    async def rename_conversation(self, conversation_id: str, title: str) -> bool:
        result = await self._conversations.update_one({"_id": conversation_id}, {"$set": {"title": title}})
        return bool(result.matched_count)

    async def delete_conversation(self, conversation_id: str) -> bool:
        result = await self._conversations.delete_one({"_id": conversation_id})
        await self._messages.delete_many({"conversation_id": conversation_id})
        return bool(result.deleted_count)

    async def list_conversations(
        self, user_id: str, limit: int, offset: int = 0, after: ListPosition | None = None
    ) -> list[Conversation]:
        query: dict[str, Any] = {"user_id": user_id}
        if after is not None:
            query["$or"] = [
                {"updated_at": {"$lt": after.updated_at}},
                {"updated_at": after.updated_at, "_id": {"$lt": after.id}},
            ]
        cursor = (
            self._conversations.find(query)
            .sort([("updated_at", DESCENDING), ("_id", DESCENDING)])
            .skip(offset)
            .limit(limit)
        )
        return [_conversation(doc) async for doc in cursor]

    async def count_conversations(self, user_id: str) -> int:
        return int(await self._conversations.count_documents({"user_id": user_id}))

    async def list_messages(self, conversation_id: str) -> list[Message]:
        cursor = self._messages.find({"conversation_id": conversation_id}).sort("seq", ASCENDING)
        return [_message(doc) async for doc in cursor]

    async def recent_messages(self, conversation_id: str, limit: int) -> list[Message]:
        cursor = self._messages.find({"conversation_id": conversation_id}).sort("seq", DESCENDING).limit(limit)
        newest_first = [_message(doc) async for doc in cursor]
        return newest_first[::-1]

    async def ping(self) -> None:
        await self._database.command("ping")


def _document_doc(document: Document) -> dict[str, Any]:
    return {
        "_id": document.id,
        "user_id": document.user_id,
        "filename": document.filename,
        "content_type": document.content_type,
        "size_bytes": document.size_bytes,
        "sha256": document.sha256,
        "status": document.status.value,
        "created_at": document.created_at,
        "updated_at": document.updated_at,
        "chunks_total": document.chunks_total,
        "chunks_embedded": document.chunks_embedded,
        "error": document.error,
        "embedder": document.embedder,
    }


def _document(doc: Mapping[str, Any]) -> Document:
    return Document(
        id=doc["_id"],
        user_id=doc["user_id"],
        filename=doc["filename"],
        content_type=doc["content_type"],
        size_bytes=doc["size_bytes"],
        sha256=doc["sha256"],
        status=DocumentStatus(doc["status"]),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        chunks_total=doc["chunks_total"],
        chunks_embedded=doc["chunks_embedded"],
        error=doc["error"],
        embedder=doc["embedder"],
    )


def _chunk(doc: Mapping[str, Any]) -> Chunk:
    vector = array.array("f")
    vector.frombytes(bytes(doc["vector"]))
    return Chunk(
        id=doc["chunk_id"],
        document_id=doc["document_id"],
        ordinal=doc["ordinal"],
        start=doc["start"],
        end=doc["end"],
        text=doc["text"],
        vector=vector,
    )


class MongoDocumentStore:
    """Documents, chunks (float32 BinData vectors) and ingestion jobs in MongoDB.

    Jobs are claimed with one ``find_one_and_update``, atomic across processes and hosts.
    """

    def __init__(self, database: Database) -> None:
        self._documents = database["documents"]
        self._chunks = database["chunks"]
        self._jobs = database["ingestion_jobs"]

    async def add_document(self, document: Document) -> None:
        await self._documents.insert_one(_document_doc(document))
        job = {"_id": document.id, "worker": None, "lease_until": None, "attempts": 0}
        await self._jobs.insert_one({**job, "created_at": document.created_at})

    async def get_document(self, user_id: str | None, document_id: str) -> Document | None:
        query: dict[str, Any] = {"_id": document_id}
        if user_id is not None:
            query["user_id"] = user_id
        doc = await self._documents.find_one(query)
        return None if doc is None else _document(doc)

    async def find_by_hash(self, user_id: str, sha256: str) -> Document | None:
        doc = await self._documents.find_one({"user_id": user_id, "sha256": sha256})
        return None if doc is None else _document(doc)

    async def list_documents(self, user_id: str, limit: int, offset: int) -> list[Document]:
        cursor = (
            self._documents.find({"user_id": user_id})
            .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
            .skip(offset)
            .limit(limit)
        )
        return [_document(doc) async for doc in cursor]

    async def count_documents(self, user_id: str) -> int:
        return int(await self._documents.count_documents({"user_id": user_id}))

    async def update_document(self, document: Document) -> None:
        fields = _document_doc(document)
        changes = {key: fields[key] for key in ("status", "updated_at", "chunks_total", "chunks_embedded", "error")}
        await self._documents.update_one({"_id": document.id}, {"$set": {**changes, "embedder": document.embedder}})

    async def delete_document(self, document_id: str) -> bool:
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

    async def finish_job(self, job: IngestionJob) -> None:
        await self._jobs.delete_one({"_id": job.document_id, "worker": job.worker})

    async def stored_chunk_count(self, document_id: str) -> int:
        return int(await self._chunks.count_documents({"document_id": document_id}))

    async def add_chunks(self, document: Document, chunks: Sequence[Chunk], embedder: str) -> None:
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

    async def chunks_of(self, document_id: str) -> list[Chunk]:
        cursor = self._chunks.find({"document_id": document_id}).sort("ordinal", ASCENDING)
        return [_chunk(doc) async for doc in cursor]

    async def chunk_embedder(self, document_id: str) -> str | None:
        doc = await self._chunks.find_one({"document_id": document_id}, {"embedder": 1})
        return None if doc is None else str(doc["embedder"])


def _key(doc: Mapping[str, Any]) -> ApiKey:
    return ApiKey(
        id=doc["_id"],
        user_id=doc["user_id"],
        prefix=doc["prefix"],
        secret_hash=doc["secret_hash"],
        created_at=doc["created_at"],
        revoked_at=doc["revoked_at"],
        requests_per_minute=doc["requests_per_minute"],
        tokens_per_day=doc["tokens_per_day"],
    )


class MongoKeyStore:
    """API keys in MongoDB (``api_keys``)."""

    def __init__(self, database: Database) -> None:
        self._keys = database["api_keys"]

    async def add_key(self, key: ApiKey) -> None:
        await self._keys.insert_one({"_id": key.id, **{k: v for k, v in attrs.asdict(key).items() if k != "id"}})

    async def find_key(self, prefix: str) -> ApiKey | None:
        doc = await self._keys.find_one({"prefix": prefix})
        return None if doc is None else _key(doc)

    async def list_keys(self) -> list[ApiKey]:
        return [_key(doc) async for doc in self._keys.find({}).sort([("created_at", ASCENDING), ("_id", ASCENDING)])]

    async def revoke_key(self, key_id: str, at: datetime) -> bool:
        result = await self._keys.update_one({"_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": at}})
        return bool(result.matched_count)

    async def has_active_keys(self) -> bool:
        return await self._keys.find_one({"revoked_at": None}, {"_id": 1}) is not None


class MongoUsageStore:
    """Daily usage (``usage_daily``) and per-minute request counters (``request_counts``, TTL-indexed)."""

    def __init__(self, database: Database) -> None:
        self._daily = database["usage_daily"]
        self._requests = database["request_counts"]

    async def add_usage(self, user_id: str, key_id: str, day: date, prompt_tokens: int, completion_tokens: int) -> None:
        await self._daily.update_one(
            {"user_id": user_id, "key_id": key_id, "day": day.isoformat()},
            {"$inc": {"requests": 1, "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}},
            upsert=True,
        )

    async def key_tokens(self, key_id: str, day: date) -> int:
        total = 0
        async for doc in self._daily.find({"key_id": key_id, "day": day.isoformat()}):
            total += doc["prompt_tokens"] + doc["completion_tokens"]
        return total

    async def user_totals(self, user_id: str) -> UsageTotals:
        requests = prompt = completion = 0
        async for doc in self._daily.find({"user_id": user_id}):
            requests, prompt, completion = (
                requests + doc["requests"],
                prompt + doc["prompt_tokens"],
                completion + doc["completion_tokens"],
            )
        return UsageTotals(requests, prompt, completion)

    async def count_request(self, key_id: str, minute: datetime) -> int:
        bucket = {"key_id": key_id, "minute": minute.isoformat()}
        doc = await self._requests.find_one_and_update(
            bucket,
            {"$inc": {"count": 1}, "$setOnInsert": {"expires_at": minute + timedelta(minutes=10)}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:  # mongomock returns None for an upserted document; MongoDB does not
            doc = await self._requests.find_one(bucket)
        return int(doc["count"])
