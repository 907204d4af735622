"""Async resources the container starts and stops: the database, models, ingestion workers."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, TypeVar

import pluggy

from botgpt.adapters.sqlite_db import SqliteDatabase, open_sqlite_database
from botgpt.domain.fallback import FallbackChatModel
from botgpt.domain.ingestion import IngestionWorker
from botgpt.domain.summaries import SummaryMemory
from botgpt.entrypoints.settings import Settings, SettingsError
from botgpt.plugins.hookspecs import PluginContext
from botgpt.plugins.manager import (
    PluginError,
    chat_model_factories,
    chunker_factories,
    embedder_factories,
    pick,
    reranker_factories,
    retriever_factories,
)
from botgpt.ports.ai import Chunker, Embedder, Reranker, Retriever
from botgpt.ports.chat import ChatModel
from botgpt.ports.documents import DocumentStore
from botgpt.ports.index import ChunkIndex
from botgpt.ports.telemetry import NO_METRICS, NO_TRACER, Metrics, Tracer

log = logging.getLogger(__name__)
T = TypeVar("T")
INGESTION_STOP_SECONDS = 5.0


async def sqlite_database(settings: Settings) -> AsyncIterator[SqliteDatabase]:
    """The SQLite database, open for the container's lifetime."""
    async with open_sqlite_database(settings.sqlite_path) as database:
        yield database


async def mongo_database(settings: Settings) -> AsyncIterator[Any]:
    """The MongoDB database; connects inside the running loop."""
    if not settings.mongodb_uri:
        raise SettingsError("store = mongo needs MONGODB_URI (or BOTGPT_MONGODB_URI)")
    from botgpt.adapters.mongo_client import open_mongo_database

    async with open_mongo_database(settings.mongodb_uri, settings.mongodb_database) as database:
        yield database


async def _managed(model: T) -> AsyncIterator[T]:
    load = getattr(model, "load", None)
    if load is not None:
        await load()
    try:
        yield model
    finally:
        close = getattr(model, "close", None)
        if close is not None:
            await close()


def _chosen(factories: dict[str, Any], name: str, kind: str) -> Any:
    try:
        return pick(factories, name, kind)
    except PluginError as error:
        raise SettingsError(str(error)) from error


def built(factory: Any, config: Mapping[str, Any], metrics: Metrics = NO_METRICS) -> Any:
    """What ``factory`` builds from ``config``; a value it refuses is a ``SettingsError``."""
    try:
        return factory(PluginContext(config, metrics=metrics))
    except ValueError as error:
        raise SettingsError(str(error)) from error


async def chat_model(
    plugins: pluggy.PluginManager, config: Mapping[str, Any], metrics: Metrics = NO_METRICS
) -> AsyncIterator[ChatModel]:
    """The configured provider's model and its fallbacks, as one chain (which names the
    provider of each answer and counts each one's failures), loaded at start and closed at stop."""
    factories = chat_model_factories(plugins)
    names = [config["chat_provider"], *filter(None, map(str.strip, str(config["chat_fallbacks"]).split(",")))]
    models = [built(_chosen(factories, name, "chat_provider"), config, metrics) for name in names]
    async with contextlib.AsyncExitStack() as stack:
        for model in models:
            await stack.enter_async_context(contextlib.asynccontextmanager(_managed)(model))
        yield FallbackChatModel(models, names, metrics)


async def summary_writer(
    plugins: pluggy.PluginManager, config: Mapping[str, Any], chat: ChatModel
) -> AsyncIterator[ChatModel]:
    """The model that writes summaries: the chat model itself unless another provider is named."""
    name = str(config["summary_provider"]).strip()
    if not name or name == config["chat_provider"]:
        yield chat
        return
    async for model in _managed(built(_chosen(chat_model_factories(plugins), name, "summary_provider"), config)):
        yield model


async def summary_memory(enabled: bool, make_memory: Callable[[], Any]) -> AsyncIterator[SummaryMemory | None]:
    """Summary memory when enabled; refreshes under way finish before shutdown."""
    if not enabled:
        yield None
        return
    memory: SummaryMemory = await resolved(make_memory())
    try:
        yield memory
    finally:
        await memory.drain()


async def embedder(
    plugins: pluggy.PluginManager, config: Mapping[str, Any], metrics: Metrics = NO_METRICS
) -> AsyncIterator[Embedder]:
    """The configured embedder, loaded at start and closed at stop."""
    factory = _chosen(embedder_factories(plugins), config["embedder"], "embedder")
    async for model in _managed(built(factory, config, metrics)):
        yield model


async def reranker(plugins: pluggy.PluginManager, config: Mapping[str, Any]) -> AsyncIterator[Reranker | None]:
    """The configured reranker, loaded at start and closed at stop; None when none is set."""
    name = str(config.get("reranker") or "").strip()
    if not name:
        yield None
        return
    async for model in _managed(built(_chosen(reranker_factories(plugins), name, "reranker"), config)):
        yield model


def chunker(plugins: pluggy.PluginManager, config: Mapping[str, Any]) -> Chunker:
    """The configured chunker."""
    made: Chunker = built(_chosen(chunker_factories(plugins), config["chunker"], "chunker"), config)
    return made


async def chunk_index(settings: Settings) -> AsyncIterator[ChunkIndex]:
    """The configured chunk index, opened at start and closed at stop."""
    if settings.index_engine == "memory":
        from botgpt.adapters.memory_index import MemoryChunkIndex

        yield MemoryChunkIndex(k1=settings.bm25_k1, b=settings.bm25_b)
        return
    if settings.index_engine == "qdrant":
        from botgpt.adapters.qdrant_index import QdrantChunkIndex

        qdrant = QdrantChunkIndex(
            url=settings.qdrant_url,
            path=settings.data_dir / "qdrant",
            api_key=settings.qdrant_api_key or os.environ.get("QDRANT_API_KEY", ""),
            prefix=settings.qdrant_collection_prefix,
            k1=settings.bm25_k1,
            b=settings.bm25_b,
        )
        async for remote in _managed(qdrant):
            yield remote
        return
    from botgpt.adapters.lance_index import LanceChunkIndex, LanceTuning

    tuning = LanceTuning(
        flat_limit=settings.index_flat_limit,
        ann_min_rows=settings.index_ann_min_rows,
        cache_bytes=settings.index_cache_mb << 20,
    )
    async for index in _managed(LanceChunkIndex(settings.index_dir, tuning)):
        yield index


def retriever(
    plugins: pluggy.PluginManager,
    config: Mapping[str, Any],
    store: DocumentStore,
    index: ChunkIndex,
    embedder: Embedder,
    metrics: Metrics = NO_METRICS,
    tracer: Tracer = NO_TRACER,
) -> Retriever:
    """The configured retriever; composite retrievers may build other registered ones."""
    factories = retriever_factories(plugins)

    def build(name: str) -> Retriever:
        built: Retriever = _chosen(factories, name, "retriever")(context)
        return built

    context = PluginContext(
        config, store=store, embedder=embedder, retrievers=build, index=index, metrics=metrics, tracer=tracer
    )
    return build(config["retriever"])


async def resolved(value: Any) -> Any:
    """A provider's value; providers that depend on async resources return awaitables."""
    if inspect.isawaitable(value):
        return await value
    return value


async def ingestion_workers(
    make_worker: Callable[..., Any], count: int, wake: asyncio.Event
) -> AsyncIterator[list[asyncio.Task[None]]]:
    """``count`` background ingestion workers for the container's lifetime."""
    stop = asyncio.Event()
    prefix = f"{os.uname().nodename}:{os.getpid()}"
    workers: list[IngestionWorker] = [await resolved(make_worker(name=f"{prefix}:{n}")) for n in range(count)]
    if workers:
        await workers[0].remove_orphans()
    tasks = [asyncio.create_task(worker.run(stop, wake)) for worker in workers]
    try:
        yield tasks
    finally:
        stop.set()
        # A worker finishes its current step quickly; a long document's job is cut instead of
        # holding shutdown, and its lease is released so that another worker resumes it at once.
        _, running = await asyncio.wait(tasks, timeout=INGESTION_STOP_SECONDS) if tasks else (set(), set())
        for task in running:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        released = sum([await worker.release_leases() for worker in workers])
        if released:
            log.info("ingestion stopped: released %d jobs for another worker to resume", released)
