"""Embedding botgpt in another Python application, without HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import attrs

from botgpt.domain.conversations import ConversationService
from botgpt.entrypoints.container import Container, build_container
from botgpt.entrypoints.resources import resolved
from botgpt.entrypoints.settings import Settings


@attrs.frozen
class Core:
    """The use cases of a running botgpt, ready to call."""

    conversations: ConversationService
    container: Container


async def provided(provider: Any) -> Any:
    """The value of a provider whose dependencies may be async resources."""
    return await resolved(provider())


async def start_resources(container: Container) -> None:
    """Start the container's async resources (stores, models)."""
    pending = container.init_resources()
    if pending is not None:
        await pending


async def stop_resources(container: Container) -> None:
    """Stop the container's async resources."""
    pending = container.shutdown_resources()
    if pending is not None:
        await pending


@asynccontextmanager
async def open_core(settings: Settings | None = None) -> AsyncIterator[Core]:
    """Start botgpt's stores and models for ``settings`` and stop them on exit.

    ``settings`` defaults to the file and environment configuration, as for the server.
    """
    container = build_container(settings)
    await start_resources(container)
    try:
        yield Core(conversations=await provided(container.conversations), container=container)
    finally:
        await stop_resources(container)
