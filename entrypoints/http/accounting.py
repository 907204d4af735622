"""Recording what each answer cost, for usage totals and per-key token limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from botgpt.domain.model import Turn
from botgpt.domain.usage import UsageService
from botgpt.entrypoints.http.identity import current_principal

Recorder = Callable[[Turn], Awaitable[None]]


def usage_recorder(usage: UsageService) -> Recorder:
    """A callback that books a turn's tokens to the caller (and key) of this request.

    It captures the principal now, so it also works from a stream that outlives the request.
    """
    principal = current_principal()

    async def record(turn: Turn) -> None:
        await usage.record(turn.conversation.user_id, principal.key if principal else None, turn.assistant_message)

    return record
