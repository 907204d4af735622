"""Async resources the container starts and stops: stores and models."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pluggy

from botgpt.adapters.sqlite_store import SqliteConversationStore, open_sqlite_store
from botgpt.entrypoints.settings import SettingsError
from botgpt.plugins.manager import chat_model_factories
from botgpt.ports.chat import ChatModel


async def sqlite_store(path: Path) -> AsyncIterator[SqliteConversationStore]:
    """The SQLite store, open for the container's lifetime."""
    async with open_sqlite_store(path) as store:
        yield store


async def chat_model(plugins: pluggy.PluginManager, config: Mapping[str, Any]) -> AsyncIterator[ChatModel]:
    """The configured provider's model, loaded at start and closed at stop."""
    factories = chat_model_factories(plugins)
    provider = config["chat_provider"]
    if provider not in factories:
        known = ", ".join(sorted(factories))
        raise SettingsError(f"chat_provider {provider!r} is not registered; installed: {known}")
    model = factories[provider](config)
    load = getattr(model, "load", None)
    if load is not None:
        await load()
    try:
        yield model
    finally:
        close = getattr(model, "close", None)
        if close is not None:
            await close()
