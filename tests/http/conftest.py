from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from quart import Quart
from quart.typing import TestClientProtocol as Client

from botgpt.adapters.mongo_client import open_mongo_database
from botgpt.entrypoints.container import Container, build_container
from botgpt.entrypoints.http.app import create_app
from botgpt.entrypoints.settings import Settings
from botgpt.entrypoints.storage import storage_for
from tests.fakes import HashingEmbedder, ScriptedChatModel


@pytest.fixture
def chat() -> ScriptedChatModel:
    return ScriptedChatModel()


async def mongomock_database(settings: Settings) -> AsyncIterator[Any]:
    from mongomock_motor import AsyncMongoMockClient

    mongo = open_mongo_database(settings.mongodb_uri, settings.mongodb_database, AsyncMongoMockClient)
    async with mongo as database:
        yield database


@pytest.fixture(params=["sqlite", "mongo"])
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    return Settings.load(
        environ={},
        data_dir=tmp_path,
        store=request.param,
        mongodb_uri="mongodb://mock",
        max_message_chars=2000,
        max_upload_mb=1,
    )


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def container(settings: Settings, chat: ScriptedChatModel, embedder: HashingEmbedder) -> Container:
    storage = storage_for(settings)
    if settings.store == "mongo":
        storage.database.override(providers.Resource(mongomock_database, settings))
    container = build_container(settings, storage)
    container.chat_model.override(providers.Object(chat))
    container.embedder.override(providers.Object(embedder))
    return container


@pytest.fixture
async def app(container: Container) -> AsyncIterator[Quart]:
    app = create_app(container)
    async with app.test_app():
        yield app


@pytest.fixture
def client(app: Quart) -> Client:
    return app.test_client()


async def create(client: Client, user: str = "alice", message: str = "hello", **extra: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/conversations", json={"user_id": user, "message": message, **extra})
    assert response.status_code == 201, await response.get_data()
    body: dict[str, Any] = await response.get_json()
    return body


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def live_server(container: Container) -> AsyncIterator[str]:
    """The app served by hypercorn on loopback, for real clients (streams, disconnects, SDKs)."""
    import asyncio

    import httpx
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    port = free_port()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    stop = asyncio.Event()
    task = asyncio.create_task(serve(create_app(container), config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(f"{url}/health")).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.02)
    try:
        yield url
    finally:
        stop.set()
        await task
