"""One sub-container per storage backend; ``build_container`` selects one, once, by ``store``.

Each backend provides the same five stores under the same names, plus its ``database``
resource, so the main container refers to ``storage.conversations`` and never names a backend.
"""

from __future__ import annotations

from dependency_injector import containers, providers

from botgpt.adapters.memory_collections import MemoryCollectionStore
from botgpt.adapters.memory_documents import MemoryDocumentStore
from botgpt.adapters.memory_keys import MemoryKeyStore, MemoryUsageStore
from botgpt.adapters.memory_store import MemoryConversationStore
from botgpt.adapters.mongo_collections import MongoCollectionStore
from botgpt.adapters.mongo_conversations import MongoConversationStore
from botgpt.adapters.mongo_documents import MongoDocumentStore
from botgpt.adapters.mongo_keys import MongoKeyStore, MongoUsageStore
from botgpt.adapters.sqlite_collections import SqliteCollectionStore
from botgpt.adapters.sqlite_documents import SqliteDocumentStore
from botgpt.adapters.sqlite_keys import SqliteKeyStore, SqliteUsageStore
from botgpt.adapters.sqlite_store import SqliteConversationStore
from botgpt.entrypoints import resources
from botgpt.entrypoints.settings import Settings


class SqliteStorage(containers.DeclarativeContainer):
    """SQLite: one database file in the data directory, open while the container runs."""

    settings = providers.Dependency(instance_of=Settings)
    database = providers.Resource(resources.sqlite_database, settings)
    conversations = providers.Singleton(SqliteConversationStore, database)
    documents = providers.Singleton(SqliteDocumentStore, database)
    collections = providers.Singleton(SqliteCollectionStore, database)
    keys = providers.Singleton(SqliteKeyStore, database)
    usage = providers.Singleton(SqliteUsageStore, database)


class MongoStorage(containers.DeclarativeContainer):
    """MongoDB through motor: connected inside the running loop, indexes ensured at start."""

    settings = providers.Dependency(instance_of=Settings)
    database = providers.Resource(resources.mongo_database, settings)
    conversations = providers.Singleton(MongoConversationStore, database)
    documents = providers.Singleton(MongoDocumentStore, database)
    collections = providers.Singleton(MongoCollectionStore, database)
    keys = providers.Singleton(MongoKeyStore, database)
    usage = providers.Singleton(MongoUsageStore, database)


class MemoryStorage(containers.DeclarativeContainer):
    """In process, lost at exit: for tests and for apps that embed the core."""

    settings = providers.Dependency(instance_of=Settings)
    database: providers.Object[None] = providers.Object(None)
    conversations = providers.Singleton(MemoryConversationStore)
    documents = providers.Singleton(MemoryDocumentStore)
    collections = providers.Singleton(MemoryCollectionStore, documents)
    keys = providers.Singleton(MemoryKeyStore)
    usage = providers.Singleton(MemoryUsageStore)


BACKENDS: dict[str, type[containers.DeclarativeContainer]] = {
    "sqlite": SqliteStorage,
    "mongo": MongoStorage,
    "memory": MemoryStorage,
}


def storage_for(settings: Settings) -> containers.DeclarativeContainer:
    """The sub-container of the configured backend."""
    return BACKENDS[settings.store](settings=settings)
