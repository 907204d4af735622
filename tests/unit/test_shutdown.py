"""Stopping the container: background work ends before the resources it reaches close."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from dependency_injector import containers, providers

from botgpt.entrypoints.core import start_resources, stop_resources


class Database:
    def __init__(self) -> None:
        self.open = True


async def database() -> AsyncIterator[Database]:
    db = Database()
    yield db
    db.open = False


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db


async def background(store: Store, seen: list[bool]) -> AsyncIterator[None]:
    yield None
    await asyncio.sleep(0.05)  # work finishing at shutdown, as a summary under way does
    seen.append(store.db.open)


class Wiring(containers.DeclarativeContainer):
    seen = providers.Singleton(list)
    database = providers.Resource(database)
    # Reached only through a store, as summary memory and ingestion reach the SQLite database.
    store = providers.Singleton(Store, database)
    background = providers.Resource(background, store=store, seen=seen)


async def test_background_work_finishes_before_the_database_it_reaches_closes() -> None:
    container = Wiring()
    await start_resources(container)  # type: ignore[arg-type]
    await stop_resources(container)  # type: ignore[arg-type]
    assert container.seen() == [True]
    assert not container.database.initialized


async def test_a_failing_shutdown_still_stops_the_others() -> None:
    async def broken() -> AsyncIterator[None]:
        yield None
        raise RuntimeError("cannot close")

    class Broken(Wiring):
        failing = providers.Resource(broken)

    container = Broken()
    await start_resources(container)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="cannot close"):
        await stop_resources(container)  # type: ignore[arg-type]
    assert not container.database.initialized and container.seen() == [True]
