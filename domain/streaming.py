"""Helpers for streamed answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

from botgpt.domain.errors import ModelUnavailable
from botgpt.domain.model import Completion


async def collect(stream: AsyncIterator[str | Completion]) -> Completion:
    """The final ``Completion`` of a stream (the deltas are already in it)."""
    async for event in stream:
        if isinstance(event, Completion):
            return event
    raise ModelUnavailable("the answer stream ended without completing")
