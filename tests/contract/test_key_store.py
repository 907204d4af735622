"""The contract every KeyStore and UsageStore adapter must meet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from botgpt.adapters.memory_keys import MemoryKeyStore, MemoryUsageStore
from botgpt.adapters.mongo_keys import MongoKeyStore, MongoUsageStore
from botgpt.adapters.sqlite_keys import SqliteKeyStore, SqliteUsageStore
from botgpt.domain.ids import new_id
from botgpt.domain.model import ApiKey, UsageTotals
from tests.contract.conftest import BACKENDS, backend

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = date(2026, 3, 1)


@pytest.fixture(params=BACKENDS)
async def keys(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    async with backend(request.param, tmp_path, MemoryKeyStore, SqliteKeyStore, MongoKeyStore) as adapter:
        yield adapter


@pytest.fixture(params=BACKENDS)
async def usage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    async with backend(request.param, tmp_path, MemoryUsageStore, SqliteUsageStore, MongoUsageStore) as adapter:
        yield adapter


def api_key(user: str = "alice", minutes: int = 0, **changes: Any) -> ApiKey:
    fields: dict[str, Any] = dict(
        id=new_id(), user_id=user, prefix=new_id()[:12], secret_hash="h" * 64,
        created_at=T0 + timedelta(minutes=minutes), requests_per_minute=60, tokens_per_day=None,
    )  # fmt: skip
    fields.update(changes)
    return ApiKey(**fields)


async def test_keys_round_trip_and_list_oldest_first(keys: Any) -> None:
    newer, older = api_key(minutes=5), api_key(minutes=1)
    await keys.add_key(newer)
    await keys.add_key(older)
    assert await keys.find_key(newer.prefix) == newer
    assert await keys.find_key("nope") is None
    assert await keys.list_keys() == [older, newer]


async def test_revocation_and_open_mode(keys: Any) -> None:
    assert not await keys.has_active_keys()
    key = api_key()
    await keys.add_key(key)
    assert await keys.has_active_keys()
    assert await keys.revoke_key(key.id, T0)
    assert not await keys.revoke_key(key.id, T0)
    assert (await keys.find_key(key.prefix)).revoked_at == T0  # type: ignore[union-attr]
    assert not await keys.has_active_keys()


async def test_usage_adds_up_per_user_key_and_day(usage: Any) -> None:
    await usage.add_usage("alice", "k1", DAY, 10, 5)
    await usage.add_usage("alice", "k1", DAY, 1, 2)
    await usage.add_usage("alice", "k2", DAY, 100, 0)
    await usage.add_usage("alice", "k1", DAY + timedelta(days=1), 7, 7)
    await usage.add_usage("bob", "k3", DAY, 50, 50)
    assert await usage.key_tokens("k1", DAY) == 18
    assert await usage.key_tokens("k1", DAY + timedelta(days=1)) == 14
    assert await usage.user_totals("alice") == UsageTotals(requests=4, prompt_tokens=118, completion_tokens=14)
    assert await usage.user_totals("nobody") == UsageTotals()


async def test_requests_are_counted_per_key_and_minute(usage: Any) -> None:
    # The current minute: MongoDB's TTL index (which mongomock emulates) drops old buckets.
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    assert [await usage.count_request("k1", now) for _ in range(3)] == [1, 2, 3]
    assert await usage.count_request("k2", now) == 1
    assert await usage.count_request("k1", now + timedelta(minutes=1)) == 1
