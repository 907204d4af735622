"""Usage accounting and per-key limits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import attrs

from botgpt.domain.errors import RateLimited
from botgpt.domain.model import ApiKey, Message, UsageTotals
from botgpt.ports.keys import UsageStore
from botgpt.ports.telemetry import NO_METRICS, Metrics

OPEN_MODE_KEY = ""


@attrs.define
class UsageService:
    """Counts tokens per user, key and day, and enforces each key's limits."""

    store: UsageStore
    clock: Callable[[], datetime]
    metrics: Metrics = NO_METRICS

    async def admit(self, key: ApiKey, spends_tokens: bool) -> None:
        """Count a request against its key; ``RateLimited`` when a limit is spent."""
        now = self.clock()
        minute = now.replace(second=0, microsecond=0)
        if key.requests_per_minute:
            count = await self.store.count_request(key.id, minute)
            if count > key.requests_per_minute:
                retry = (minute + timedelta(minutes=1) - now).total_seconds()
                self.metrics.rate_limited("requests")
                raise RateLimited(f"this key allows {key.requests_per_minute} requests a minute", retry_after=retry)
        if spends_tokens and key.tokens_per_day:
            spent = await self.store.key_tokens(key.id, now.date())
            if spent >= key.tokens_per_day:
                midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
                retry = (midnight - now).total_seconds()
                self.metrics.rate_limited("tokens")
                raise RateLimited(f"this key allows {key.tokens_per_day} tokens a day", retry_after=retry)

    async def record(self, user_id: str, key: ApiKey | None, message: Message) -> None:
        """Add an answer's tokens to the ledger."""
        await self.record_tokens(user_id, key, message.prompt_tokens, message.completion_tokens)

    async def record_tokens(self, user_id: str, key: ApiKey | None, prompt_tokens: int, completion_tokens: int) -> None:
        """Add tokens spent for the user (by ``key``, or by no key: background work) to the ledger."""
        key_id = key.id if key else OPEN_MODE_KEY
        await self.store.add_usage(user_id, key_id, self.clock().date(), prompt_tokens, completion_tokens)

    async def totals(self, user_id: str) -> UsageTotals:
        """Everything the user has spent."""
        return await self.store.user_totals(user_id)
