"""Connecting to MongoDB with motor (Atlas, a replica set or a sharded cluster)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from motor.motor_asyncio import AsyncIOMotorClient

from botgpt.adapters.mongo_schema import Database, ensure_indexes, upgrade_to_trees


@asynccontextmanager
async def open_mongo_database(
    uri: str, name: str, client_factory: Callable[..., Any] = AsyncIOMotorClient
) -> AsyncIterator[Database]:
    """The database ``name`` at ``uri``, with its indexes in place and its data upgraded to
    the current shape; the client closes on exit.

    The client is created here, inside the running event loop: motor binds to the loop
    it first runs on.
    """
    client = client_factory(uri, tz_aware=True, serverSelectionTimeoutMS=10_000)
    try:
        database = client[name]
        await ensure_indexes(database)
        await upgrade_to_trees(database)
        yield database
    finally:
        client.close()
