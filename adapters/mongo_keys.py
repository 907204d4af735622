"""API keys and usage in MongoDB."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pymongo import ASCENDING, ReturnDocument

from botgpt.adapters.mongo_schema import MONGO, Database
from botgpt.adapters.records import RecordMap
from botgpt.domain.model import ApiKey, UsageTotals

KEYS = RecordMap(ApiKey, MONGO)


class MongoKeyStore:
    """API keys in MongoDB (``api_keys``)."""

    def __init__(self, database: Database) -> None:
        self._keys = database["api_keys"]

    async def add_key(self, key: ApiKey) -> None:
        await self._keys.insert_one(KEYS.dump(key))

    async def find_key(self, prefix: str) -> ApiKey | None:
        doc = await self._keys.find_one({"prefix": prefix})
        return None if doc is None else KEYS.load(doc)

    async def list_keys(self) -> list[ApiKey]:
        return [
            KEYS.load(doc) async for doc in self._keys.find({}).sort([("created_at", ASCENDING), ("_id", ASCENDING)])
        ]

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
