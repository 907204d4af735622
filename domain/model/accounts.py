"""Accounts: API keys and the usage they spend."""

from __future__ import annotations

from datetime import datetime

import attrs


@attrs.frozen
class ApiKey:
    """An API key, as stored: only a hash of its secret is kept.

    Limits of ``None`` mean unlimited.
    """

    id: str
    user_id: str
    prefix: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None
    requests_per_minute: int | None = None
    tokens_per_day: int | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@attrs.frozen
class UsageTotals:
    """Tokens and requests spent."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens
