"""API key and usage storage ports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from botgpt.domain.model import ApiKey, UsageTotals


class KeyStore(Protocol):
    """API keys. Must pass ``tests/contract/test_key_store.py``."""

    async def add_key(self, key: ApiKey) -> None:
        """Store a new key."""
        ...

    async def find_key(self, prefix: str) -> ApiKey | None:
        """The key with this public prefix, revoked or not."""
        ...

    async def list_keys(self) -> list[ApiKey]:
        """Every key, oldest first."""
        ...

    async def revoke_key(self, key_id: str, at: datetime) -> bool:
        """Revoke a key; False if there is no such active key."""
        ...

    async def has_active_keys(self) -> bool:
        """Whether any key is active (if none is, the server runs in open mode)."""
        ...


class UsageStore(Protocol):
    """A ledger of tokens spent per user, key and day, and per-minute request counters.

    Counters live in the store, so limits hold across worker processes.
    """

    async def add_usage(self, user_id: str, key_id: str, day: date, prompt_tokens: int, completion_tokens: int) -> None:
        """Add one request's tokens to the day's totals."""
        ...

    async def key_tokens(self, key_id: str, day: date) -> int:
        """Tokens a key spent on a day."""
        ...

    async def user_totals(self, user_id: str) -> UsageTotals:
        """Everything a user has spent, deleted conversations included."""
        ...

    async def count_request(self, key_id: str, minute: datetime) -> int:
        """Count one request in the key's minute bucket; returns the bucket's count."""
        ...
