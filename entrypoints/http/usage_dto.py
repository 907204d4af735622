"""The body of /api/v1/usage."""

from __future__ import annotations

import attrs

from botgpt.domain.model import (
    Conversation,
    Page,
    UsageTotals,
)


@attrs.define
class UsageTotalsOut:
    requests: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@attrs.define
class ConversationUsageOut:
    conversation_id: str
    title: str
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@attrs.define
class UsageOut:
    user_id: str
    totals: UsageTotalsOut
    conversations: list[ConversationUsageOut]
    total: int
    limit: int
    offset: int
    has_more: bool
    next_cursor: str | None


def usage_out(user_id: str, totals: UsageTotals, page: Page[Conversation]) -> UsageOut:
    return UsageOut(
        user_id=user_id,
        totals=UsageTotalsOut(totals.requests, totals.prompt_tokens, totals.completion_tokens, totals.total_tokens),
        conversations=[
            ConversationUsageOut(
                c.id, c.title, c.prompt_tokens, c.completion_tokens, c.prompt_tokens + c.completion_tokens
            )
            for c in page.items
        ],
        total=page.total, limit=page.limit, offset=page.offset, has_more=page.has_more, next_cursor=page.next_cursor,
    )  # fmt: skip
