"""Collections and their memberships in MongoDB (``collections``, ``collection_members``)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from pymongo import ASCENDING, DESCENDING

from botgpt.adapters.mongo_schema import MONGO, Database
from botgpt.adapters.records import RecordMap
from botgpt.domain.model import Collection, DocumentCounts

COLLECTIONS = RecordMap(Collection, MONGO)


def _membership(collection_id: str, document_id: str) -> str:
    return f"{collection_id}:{document_id}"


class MongoCollectionStore:
    """A membership is one small document keyed by (collection, document), so adding twice
    keeps one; the document store removes a deleted document's memberships."""

    def __init__(self, database: Database) -> None:
        self._collections = database["collections"]
        self._members = database["collection_members"]
        self._documents = database["documents"]

    async def add_collection(self, collection: Collection) -> None:
        await self._collections.insert_one(COLLECTIONS.dump(collection))

    async def get_collection(self, user_id: str | None, collection_id: str) -> Collection | None:
        found = await self._collections.find_one({"_id": collection_id})
        if found is None or (user_id is not None and found["user_id"] != user_id):
            return None
        return COLLECTIONS.load(found)

    async def list_collections(self, user_id: str, limit: int, offset: int) -> list[Collection]:
        cursor = (
            self._collections.find({"user_id": user_id})
            .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
            .skip(offset)
            .limit(limit)
        )
        return [COLLECTIONS.load(found) async for found in cursor]

    async def count_collections(self, user_id: str) -> int:
        return int(await self._collections.count_documents({"user_id": user_id}))

    async def update_collection(self, collection: Collection) -> bool:
        changes = {"name": collection.name, "description": collection.description, "updated_at": collection.updated_at}
        result = await self._collections.update_one({"_id": collection.id}, {"$set": changes})
        return bool(result.matched_count)

    async def delete_collection(self, collection_id: str) -> bool:
        await self._members.delete_many({"collection_id": collection_id})
        result = await self._collections.delete_one({"_id": collection_id})
        return bool(result.deleted_count)

    async def add_members(self, collection_id: str, document_ids: Sequence[str]) -> None:
        for document_id in dict.fromkeys(document_ids):
            # Nanoseconds, not a BSON date (milliseconds): two additions in a row keep their order.
            member = {"collection_id": collection_id, "document_id": document_id, "added": time.time_ns()}
            await self._members.update_one(
                {"_id": _membership(collection_id, document_id)}, {"$setOnInsert": member}, upsert=True
            )

    async def remove_members(self, collection_id: str, document_ids: Sequence[str]) -> int:
        keys = [_membership(collection_id, d) for d in dict.fromkeys(document_ids)]
        result = await self._members.delete_many({"_id": {"$in": keys}})
        return int(result.deleted_count)

    async def member_ids(self, collection_ids: Sequence[str]) -> set[str]:
        cursor = self._members.find({"collection_id": {"$in": list(collection_ids)}}, {"document_id": 1})
        return {found["document_id"] async for found in cursor}

    async def list_members(self, collection_id: str, limit: int, offset: int) -> list[str]:
        cursor = (
            self._members.find({"collection_id": collection_id})
            .sort([("added", DESCENDING), ("_id", DESCENDING)])
            .skip(offset)
            .limit(limit)
        )
        return [found["document_id"] async for found in cursor]

    async def collections_of(self, document_id: str) -> list[str]:
        cursor = self._members.find({"document_id": document_id}).sort([("added", ASCENDING), ("_id", ASCENDING)])
        return [found["collection_id"] async for found in cursor]

    async def document_counts(self, collection_id: str) -> DocumentCounts:
        members = await self.member_ids([collection_id])
        counts = {"pending": 0, "processing": 0, "ready": 0, "failed": 0}
        async for found in self._documents.find({"_id": {"$in": sorted(members)}}, {"status": 1}):
            counts[found["status"]] += 1
        return DocumentCounts(**counts)
