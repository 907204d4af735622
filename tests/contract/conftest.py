"""Store back-ends for the contract suites: every adapter must pass the same tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from botgpt.adapters.mongo_client import open_mongo_database
from botgpt.adapters.sqlite_db import open_sqlite_database

BACKENDS = ["memory", "sqlite", "mongomock", "mongo_real"]


@asynccontextmanager
async def mongo_database(kind: str) -> AsyncIterator[Any]:
    if kind == "mongomock":
        from mongomock_motor import AsyncMongoMockClient

        async with open_mongo_database("mongodb://mock", "botgpt_test", AsyncMongoMockClient) as database:
            yield database
        return
    uri = os.environ.get("MONGODB_URI")
    if not uri:
        pytest.skip("real MongoDB contract tests need MONGODB_URI (e.g. mongodb://localhost:27017); not set")
    name = f"botgpt_test_{uuid.uuid4().hex[:12]}"
    async with open_mongo_database(uri, name) as database:
        try:
            yield database
        finally:
            await database.client.drop_database(name)


@asynccontextmanager
async def backend(kind: str, tmp_path: Path, memory: Any, sqlite: Any, mongo: Any) -> AsyncIterator[Any]:
    if kind == "memory":
        yield memory()
    elif kind == "sqlite":
        async with open_sqlite_database(tmp_path / "db.sqlite3") as database:
            yield sqlite(database)
    else:
        async with mongo_database(kind) as database:
            yield mongo(database)


@pytest.fixture(scope="session")
def botgpt_peer_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The OpenAI API of a second botgpt process (echo engine, real MiniLM), shared by the
    chat and embedder contracts."""
    from tests.openai_peer import botgpt_peer

    with botgpt_peer(tmp_path_factory.mktemp("peer")) as server:
        yield f"{server.base}/v1"
