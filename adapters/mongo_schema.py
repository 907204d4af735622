"""MongoDB schema: collections and their indexes. The driver is used only in ``adapters/mongo_*.py``,
so the move from motor to PyMongo's async API touches nothing else.

Collections: ``conversations``, ``messages``, ``documents``, ``chunks``, ``ingestion_jobs``,
``collections``, ``collection_members``,
``api_keys``, ``usage_daily``, ``request_counts``. Ids are botgpt's own (``_id`` never leaves
these modules). Vectors are float32 BinData. Every listing is an indexed sort and every
multi-document read streams its cursor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel

from botgpt.adapters.records import SAME, Dialect

# BSON keeps timestamps, lists and nested documents natively.
MONGO = Dialect("_id", SAME, SAME)

Database = Any  # motor's AsyncIOMotorDatabase (untyped)

INDEXES: Mapping[str, list[IndexModel]] = {
    "conversations": [IndexModel([("user_id", ASCENDING), ("updated_at", DESCENDING), ("_id", DESCENDING)])],
    "messages": [
        IndexModel([("conversation_id", ASCENDING), ("seq", ASCENDING)], unique=True),
        IndexModel([("conversation_id", ASCENDING), ("parent_id", ASCENDING), ("seq", ASCENDING)]),
    ],
    "documents": [
        IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]),
        IndexModel([("user_id", ASCENDING), ("status", ASCENDING)]),
        IndexModel([("user_id", ASCENDING), ("sha256", ASCENDING)], unique=True),
    ],
    "chunks": [IndexModel([("document_id", ASCENDING), ("ordinal", ASCENDING)], unique=True)],
    "collections": [IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)])],
    "collection_members": [
        IndexModel([("collection_id", ASCENDING), ("added", DESCENDING)]),
        IndexModel([("document_id", ASCENDING)]),
    ],
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


async def upgrade_to_trees(database: Database) -> int:
    """Turn conversations stored before messages formed a tree into one branch each: every
    message's parent is the one stored before it, and the last one is the active leaf.

    Idempotent, and safe while several workers start at once: each computes the same links.
    Returns how many conversations it upgraded.
    """
    upgraded = 0
    async for conversation in database["conversations"].find({"active_leaf_id": {"$exists": False}}, {"_id": 1}):
        cursor = database["messages"].find({"conversation_id": conversation["_id"]}, {"_id": 1}).sort("seq", ASCENDING)
        ids = [doc["_id"] async for doc in cursor]
        for parent, child in zip([None, *ids], ids, strict=False):
            await database["messages"].update_one({"_id": child}, {"$set": {"parent_id": parent}})
        leaf = ids[-1] if ids else None
        await database["conversations"].update_one({"_id": conversation["_id"]}, {"$set": {"active_leaf_id": leaf}})
        upgraded += 1
    return upgraded
