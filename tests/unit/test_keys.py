from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from botgpt.adapters.memory_keys import MemoryKeyStore, MemoryUsageStore
from botgpt.domain.errors import NotFound, RateLimited
from botgpt.domain.keys import KeyService, hash_secret
from botgpt.domain.model import Message, Role
from botgpt.domain.usage import UsageService
from tests.conftest import SteppingClock


@pytest.fixture
def keys() -> KeyService:
    return KeyService(MemoryKeyStore(), SteppingClock())


async def test_every_issued_secret_authenticates(keys: KeyService) -> None:
    issued = [await keys.create("alice") for _ in range(60)]  # secrets may contain "_" and "-"
    for new in issued:
        assert (await keys.authenticate(new.secret)) == new.key


async def test_secrets_are_stored_only_as_hashes(keys: KeyService) -> None:
    new = await keys.create("alice")
    stored = (await keys.list_keys())[0]
    assert stored.secret_hash == hash_secret(new.secret) and new.secret not in repr(stored)


@pytest.mark.parametrize(
    "mangle", [lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"), lambda s: "x" + s, lambda s: "", str.upper]
)
async def test_wrong_secrets_fail(keys: KeyService, mangle: object) -> None:
    new = await keys.create("alice")
    assert await keys.authenticate(mangle(new.secret)) is None  # type: ignore[operator]


async def test_revocation_by_prefix_or_id(keys: KeyService) -> None:
    first, second = await keys.create("alice"), await keys.create("bob")
    assert await keys.keys_required()
    await keys.revoke(first.key.prefix)
    await keys.revoke(second.key.id)
    assert await keys.authenticate(first.secret) is None
    assert not await keys.keys_required()
    with pytest.raises(NotFound):
        await keys.revoke(first.key.id)


async def test_limits(keys: KeyService) -> None:
    clock = SteppingClock()
    usage = UsageService(MemoryUsageStore(), clock)
    limited = (await keys.create("alice", requests_per_minute=2, tokens_per_day=10)).key
    await usage.admit(limited, spends_tokens=True)
    await usage.admit(limited, spends_tokens=True)
    with pytest.raises(RateLimited) as raised:
        await usage.admit(limited, spends_tokens=False)
    assert 0 < raised.value.retry_after <= 60
    answer = Message("a" * 32, "c" * 32, Role.ASSISTANT, "hi", clock(), tokens=1, prompt_tokens=8, completion_tokens=2)
    await usage.record("alice", limited, answer)
    fresh = (await keys.create("alice", tokens_per_day=10)).key
    await usage.record("alice", fresh, answer)
    with pytest.raises(RateLimited):
        await usage.admit(fresh, spends_tokens=True)
    await usage.admit(fresh, spends_tokens=False)  # reading is still allowed
    assert (await usage.totals("alice")).total_tokens == 20


async def test_a_key_made_elsewhere_is_enforced_within_the_cache_time() -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    store = MemoryKeyStore()
    server, cli = KeyService(store, lambda: now[0]), KeyService(store, lambda: now[0])
    assert not await server.keys_required()
    await cli.create("alice")
    assert not await server.keys_required()  # the server's answer is still cached
    now[0] += server.mode_cache + timedelta(milliseconds=1)
    assert await server.keys_required()
