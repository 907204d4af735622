"""The dependency-injector container: adapters chosen by configuration."""

from __future__ import annotations

import asyncio

from dependency_injector import containers, providers
from dependency_injector.containers import DeclarativeContainer

from botgpt.adapters.file_blobs import FileBlobStorage
from botgpt.adapters.tiktoken_tokens import TiktokenCounter
from botgpt.domain.clock import utc_now, wall_now
from botgpt.domain.collections import CollectionService
from botgpt.domain.conversations import ConversationService
from botgpt.domain.documents import DocumentService
from botgpt.domain.embeddings import EmbeddingService
from botgpt.domain.history import ConversationHistory
from botgpt.domain.ingestion import IngestionWorker
from botgpt.domain.keys import KeyService
from botgpt.domain.prompting import PromptBuilder
from botgpt.domain.reindex import Reindexer
from botgpt.domain.retrieval import RetrievalService
from botgpt.domain.summaries import SummaryMemory
from botgpt.domain.transfer import ConversationTransfer
from botgpt.domain.usage import UsageService
from botgpt.entrypoints import resources, telemetry
from botgpt.entrypoints.http.identity import KeyOrSeedIdentity
from botgpt.entrypoints.settings import Settings
from botgpt.entrypoints.storage import storage_for
from botgpt.plugins.manager import extractors_by_extension, plugin_manager


class Container(containers.DeclarativeContainer):
    """Wires botgpt. Nothing connects or loads at import or construction time: the database,
    models and ingestion workers are async resources, started by ``init_resources()`` (the
    server does this in ``before_serving``) and stopped by ``shutdown_resources()``."""

    settings = providers.Dependency(instance_of=Settings)
    config = providers.Callable(lambda settings: settings.as_dict(), settings)
    clock = providers.Object(utc_now)  # orders stored timestamps
    wall_clock = providers.Object(wall_now)  # follows real time, for expiries and rate windows

    plugins = providers.Singleton(plugin_manager)
    # Telemetry (entrypoints/telemetry.py): Prometheus unless metrics are off; spans only
    # when OTEL_* asks for them (the tracer flushes at stop).
    metrics = providers.Singleton(telemetry.metrics, settings)
    tracer = providers.Resource(telemetry.tracer, settings)
    token_counter = providers.Singleton(TiktokenCounter, encoding=settings.provided.token_encoding)

    # The configured backend's sub-container (entrypoints/storage.py), chosen in build_container.
    storage = providers.DependenciesContainer()
    store = storage.conversations
    document_store = storage.documents
    collection_store = storage.collections
    key_store = storage.keys
    usage_store = storage.usage
    blobs = providers.Singleton(FileBlobStorage, settings.provided.blob_dir)

    chat_model = providers.Resource(resources.chat_model, plugins=plugins, config=config, metrics=metrics)
    embedder = providers.Resource(resources.embedder, plugins=plugins, config=config, metrics=metrics)
    chunker = providers.Singleton(resources.chunker, plugins=plugins, config=config)
    extractors = providers.Singleton(extractors_by_extension, plugins)
    index = providers.Resource(resources.chunk_index, settings)
    retriever = providers.Singleton(
        resources.retriever,
        plugins=plugins,
        config=config,
        store=document_store,
        index=index,
        embedder=embedder,
        metrics=metrics,
        tracer=tracer,
    )

    policy = settings.provided.policy.call()
    keys = providers.Singleton(KeyService, store=key_store, clock=wall_clock)
    usage = providers.Singleton(UsageService, store=usage_store, clock=wall_clock, metrics=metrics)
    identity = providers.Singleton(KeyOrSeedIdentity, default_user=settings.provided.default_user)

    summary_writer = providers.Resource(resources.summary_writer, plugins=plugins, config=config, chat=chat_model)
    summary_memory = providers.Resource(
        resources.summary_memory,
        enabled=settings.provided.summary_memory,
        make_memory=providers.Factory(
            SummaryMemory,
            store=store,
            writer=summary_writer,
            tokens=token_counter,
            prompts=providers.Factory(PromptBuilder, chat=chat_model, tokens=token_counter, policy=policy),
            usage=usage,
        ).provider,
    )

    reranker = providers.Resource(resources.reranker, plugins=plugins, config=config)
    retrieval = providers.Singleton(
        RetrievalService,
        store=document_store,
        retriever=retriever,
        embedder=embedder,
        reranker=reranker,
        rerank_depth=settings.provided.rerank_depth,
        collections=collection_store,
        metrics=metrics,
        tracer=tracer,
    )
    conversations = providers.Singleton(
        ConversationService,
        store=store,
        chat=chat_model,
        tokens=token_counter,
        policy=policy,
        clock=clock,
        retrieval=retrieval,
        after_turn=summary_memory,
        metrics=metrics,
        tracer=tracer,
    )
    embeddings = providers.Singleton(EmbeddingService, embedder=embedder, tokens=token_counter)
    history = providers.Singleton(ConversationHistory, store=store, policy=policy)
    transfer = providers.Singleton(
        ConversationTransfer,
        store=store,
        history=history,
        tokens=token_counter,
        documents=document_store,
        clock=clock,
        policy=policy,
    )

    ingest_wake = providers.Singleton(asyncio.Event)
    documents = providers.Singleton(
        DocumentService,
        store=document_store,
        blobs=blobs,
        extractors=extractors,
        index=index,
        clock=clock,
        max_upload_bytes=providers.Callable(lambda s: s.max_upload_mb << 20, settings),
        on_queued=ingest_wake.provided.set,
        collections=collection_store,
    )
    collections = providers.Singleton(
        CollectionService,
        store=collection_store,
        documents=document_store,
        clock=clock,
        delete_document=documents.provided.delete,
    )
    reindexer = providers.Singleton(Reindexer, store=document_store, index=index, embedder=embedder, clock=clock)
    ingestion_worker = providers.Factory(
        IngestionWorker,
        store=document_store,
        index=index,
        blobs=blobs,
        extractors=extractors,
        chunker=chunker,
        embedder=embedder,
        clock=clock,
        policy=settings.provided.ingestion_policy.call(),
        metrics=metrics,
        tracer=tracer,
    )
    workers = providers.Resource(
        resources.ingestion_workers,
        make_worker=ingestion_worker.provider,
        count=settings.provided.ingest_workers,
        wake=ingest_wake,
    )


def build_container(settings: Settings | None = None, storage: DeclarativeContainer | None = None) -> Container:
    """A container for ``settings`` (by default, loaded from file and environment), on the
    configured storage backend unless ``storage`` gives another sub-container."""
    settings = settings or Settings.load()
    return Container(settings=settings, storage=storage or storage_for(settings))
