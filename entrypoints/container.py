"""The dependency-injector container: adapters chosen by configuration."""

from __future__ import annotations

import asyncio

from dependency_injector import containers, providers

from botgpt.adapters.file_blobs import FileBlobStorage
from botgpt.adapters.memory_documents import MemoryDocumentStore
from botgpt.adapters.memory_keys import MemoryKeyStore, MemoryUsageStore
from botgpt.adapters.memory_store import MemoryConversationStore
from botgpt.adapters.mongo_conversations import MongoConversationStore
from botgpt.adapters.mongo_documents import MongoDocumentStore
from botgpt.adapters.mongo_keys import MongoKeyStore, MongoUsageStore
from botgpt.adapters.sqlite_documents import SqliteDocumentStore
from botgpt.adapters.sqlite_keys import SqliteKeyStore, SqliteUsageStore
from botgpt.adapters.sqlite_store import SqliteConversationStore
from botgpt.adapters.tiktoken_tokens import TiktokenCounter
from botgpt.domain.clock import utc_now, wall_now
from botgpt.domain.conversations import ConversationService
from botgpt.domain.documents import DocumentService
from botgpt.domain.history import ConversationHistory
from botgpt.domain.ingestion import IngestionWorker
from botgpt.domain.keys import KeyService
from botgpt.domain.prompting import PromptBuilder
from botgpt.domain.retrieval import RetrievalService
from botgpt.domain.summaries import SummaryMemory
from botgpt.domain.transfer import ConversationTransfer
from botgpt.domain.usage import UsageService
from botgpt.entrypoints import resources
from botgpt.entrypoints.http.identity import KeyOrSeedIdentity
from botgpt.entrypoints.settings import Settings
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
    token_counter = providers.Singleton(TiktokenCounter, encoding=settings.provided.token_encoding)

    database = providers.Resource(resources.sqlite_database, settings)
    mongo = providers.Resource(resources.mongo_database, settings)
    store = providers.Selector(
        settings.provided.store,
        sqlite=providers.Singleton(SqliteConversationStore, database),
        mongo=providers.Singleton(MongoConversationStore, mongo),
        memory=providers.Singleton(MemoryConversationStore),
    )
    document_store = providers.Selector(
        settings.provided.store,
        sqlite=providers.Singleton(SqliteDocumentStore, database),
        mongo=providers.Singleton(MongoDocumentStore, mongo),
        memory=providers.Singleton(MemoryDocumentStore),
    )
    blobs = providers.Singleton(FileBlobStorage, settings.provided.blob_dir)

    chat_model = providers.Resource(resources.chat_model, plugins=plugins, config=config)
    embedder = providers.Resource(resources.embedder, plugins=plugins, config=config)
    chunker = providers.Singleton(resources.chunker, plugins=plugins, config=config)
    extractors = providers.Singleton(extractors_by_extension, plugins)
    retriever = providers.Singleton(
        resources.retriever, plugins=plugins, config=config, store=document_store, embedder=embedder
    )

    policy = settings.provided.policy.call()
    key_store = providers.Selector(
        settings.provided.store,
        sqlite=providers.Singleton(SqliteKeyStore, database),
        mongo=providers.Singleton(MongoKeyStore, mongo),
        memory=providers.Singleton(MemoryKeyStore),
    )
    usage_store = providers.Selector(
        settings.provided.store,
        sqlite=providers.Singleton(SqliteUsageStore, database),
        mongo=providers.Singleton(MongoUsageStore, mongo),
        memory=providers.Singleton(MemoryUsageStore),
    )
    keys = providers.Singleton(KeyService, store=key_store, clock=wall_clock)
    usage = providers.Singleton(UsageService, store=usage_store, clock=wall_clock)
    identity = providers.Singleton(KeyOrSeedIdentity)

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

    retrieval = providers.Singleton(RetrievalService, store=document_store, retriever=retriever, embedder=embedder)
    conversations = providers.Singleton(
        ConversationService,
        store=store,
        chat=chat_model,
        tokens=token_counter,
        policy=policy,
        clock=clock,
        retrieval=retrieval,
        after_turn=summary_memory,
    )
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
        retrievers=providers.List(retriever),
        clock=clock,
        max_upload_bytes=providers.Callable(lambda s: s.max_upload_mb << 20, settings),
        on_queued=ingest_wake.provided.set,
    )
    ingestion_worker = providers.Factory(
        IngestionWorker,
        store=document_store,
        blobs=blobs,
        extractors=extractors,
        chunker=chunker,
        embedder=embedder,
        clock=clock,
        policy=settings.provided.ingestion_policy.call(),
    )
    workers = providers.Resource(
        resources.ingestion_workers,
        make_worker=ingestion_worker.provider,
        count=settings.provided.ingest_workers,
        wake=ingest_wake,
    )


def build_container(settings: Settings | None = None) -> Container:
    """A container for ``settings`` (by default, loaded from file and environment)."""
    return Container(settings=settings or Settings.load())
