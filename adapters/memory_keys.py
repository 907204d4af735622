"""In-memory key and usage stores: the `memory` backend, and fakes for unit tests."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import attrs

from botgpt.domain.model import ApiKey, UsageTotals


@attrs.define
class MemoryKeyStore:
    _keys: dict[str, ApiKey] = attrs.field(factory=dict)

    async def add_key(self, key: ApiKey) -> None:
        self._keys[key.id] = key

    async def find_key(self, prefix: str) -> ApiKey | None:
        return next((key for key in self._keys.values() if key.prefix == prefix), None)

    async def list_keys(self) -> list[ApiKey]:
        return sorted(self._keys.values(), key=lambda key: (key.created_at, key.id))

    async def revoke_key(self, key_id: str, at: datetime) -> bool:
        key = self._keys.get(key_id)
        if key is None or not key.active:
            return False
        self._keys[key_id] = attrs.evolve(key, revoked_at=at)
        return True

    async def has_active_keys(self) -> bool:
        return any(key.active for key in self._keys.values())


@attrs.define
class MemoryUsageStore:
    _daily: dict[tuple[str, str, date], UsageTotals] = attrs.field(factory=dict)
    _requests: Counter[tuple[str, datetime]] = attrs.field(factory=Counter)

    async def add_usage(self, user_id: str, key_id: str, day: date, prompt_tokens: int, completion_tokens: int) -> None:
        current = self._daily.get((user_id, key_id, day), UsageTotals())
        self._daily[(user_id, key_id, day)] = UsageTotals(
            current.requests + 1, current.prompt_tokens + prompt_tokens, current.completion_tokens + completion_tokens
        )

    async def key_tokens(self, key_id: str, day: date) -> int:
        return sum(t.total_tokens for (_, key, d), t in self._daily.items() if key == key_id and d == day)

    async def user_totals(self, user_id: str) -> UsageTotals:
        rows = [t for (user, _, _), t in self._daily.items() if user == user_id]
        return UsageTotals(
            sum(t.requests for t in rows), sum(t.prompt_tokens for t in rows), sum(t.completion_tokens for t in rows)
        )

    async def count_request(self, key_id: str, minute: datetime) -> int:
        self._requests[(key_id, minute)] += 1
        return self._requests[(key_id, minute)]
