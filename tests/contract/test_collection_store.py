"""The contract every CollectionStore adapter must meet, beside its backend's document store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from botgpt.adapters.memory_collections import MemoryCollectionStore
from botgpt.adapters.memory_documents import MemoryDocumentStore
from botgpt.adapters.mongo_collections import MongoCollectionStore
from botgpt.adapters.mongo_documents import MongoDocumentStore
from botgpt.adapters.sqlite_collections import SqliteCollectionStore
from botgpt.adapters.sqlite_documents import SqliteDocumentStore
from botgpt.domain.ids import new_id
from botgpt.domain.model import Collection, DocumentCounts, DocumentStatus
from botgpt.ports.collections import CollectionStore
from botgpt.ports.documents import DocumentStore
from tests.contract.conftest import BACKENDS, backend
from tests.contract.factories import new_document

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@attrs.frozen
class Stores:
    collections: CollectionStore
    documents: DocumentStore


def _memory() -> Stores:
    documents = MemoryDocumentStore()
    return Stores(MemoryCollectionStore(documents), documents)


def _sqlite(database: Any) -> Stores:
    return Stores(SqliteCollectionStore(database), SqliteDocumentStore(database))


def _mongo(database: Any) -> Stores:
    return Stores(MongoCollectionStore(database), MongoDocumentStore(database))


@pytest.fixture(params=BACKENDS)
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    async with backend(request.param, tmp_path, _memory, _sqlite, _mongo) as adapter:
        yield adapter


def collection(user: str = "alice", minute: int = 0, name: str = "HR handbook") -> Collection:
    at = T0 + timedelta(minutes=minute)
    return Collection(new_id(), user, name, at, at, "policies")


async def stored_document(stores: Stores, user: str = "alice", status: DocumentStatus = DocumentStatus.READY) -> str:
    document = new_document(user, status=status, attributes={"year": 2025, "team": "hr"})
    await stores.documents.add_document(document)
    return document.id


async def test_collections_round_trip_and_list_newest_first(stores: Stores) -> None:
    older, newer, theirs = collection(minute=0), collection(minute=5, name="Wiki"), collection("bob", 9)
    for item in (older, newer, theirs):
        await stores.collections.add_collection(item)
    assert await stores.collections.get_collection("alice", older.id) == older
    assert await stores.collections.get_collection("bob", older.id) is None
    assert await stores.collections.get_collection(None, theirs.id) == theirs
    assert await stores.collections.list_collections("alice", 10, 0) == [newer, older]
    assert await stores.collections.list_collections("alice", 1, 1) == [older]
    assert await stores.collections.count_collections("alice") == 2


async def test_updates_save_name_and_description(stores: Stores) -> None:
    item = collection()
    await stores.collections.add_collection(item)
    renamed = attrs.evolve(item, name="People", description="", updated_at=T0 + timedelta(hours=1))
    assert await stores.collections.update_collection(renamed)
    assert await stores.collections.get_collection("alice", item.id) == renamed
    assert not await stores.collections.update_collection(collection())


async def test_members_are_kept_once_and_listed_latest_first(stores: Stores) -> None:
    item = collection()
    await stores.collections.add_collection(item)
    first, second = await stored_document(stores), await stored_document(stores)
    await stores.collections.add_members(item.id, [first])
    await stores.collections.add_members(item.id, [second, first])
    assert await stores.collections.list_members(item.id, 10, 0) == [second, first]
    assert await stores.collections.member_ids([item.id]) == {first, second}
    assert await stores.collections.remove_members(item.id, [first, first, new_id()]) == 1
    assert await stores.collections.member_ids([item.id]) == {second}


async def test_a_document_may_belong_to_several_collections(stores: Stores) -> None:
    one, two = collection(), collection(minute=1)
    for item in (one, two):
        await stores.collections.add_collection(item)
    shared = await stored_document(stores)
    await stores.collections.add_members(one.id, [shared])
    await stores.collections.add_members(two.id, [shared])
    assert await stores.collections.collections_of(shared) == [one.id, two.id]
    assert await stores.collections.member_ids([one.id, two.id]) == {shared}


async def test_counts_follow_the_documents_status(stores: Stores) -> None:
    item = collection()
    await stores.collections.add_collection(item)
    ready = await stored_document(stores)
    pending = await stored_document(stores, status=DocumentStatus.PENDING)
    await stores.collections.add_members(item.id, [ready, pending])
    assert await stores.collections.document_counts(item.id) == DocumentCounts(pending=1, ready=1)


async def test_deleting_a_document_removes_its_memberships(stores: Stores) -> None:
    item = collection()
    await stores.collections.add_collection(item)
    kept, deleted = await stored_document(stores), await stored_document(stores)
    await stores.collections.add_members(item.id, [kept, deleted])
    assert await stores.documents.delete_document(deleted)
    assert await stores.collections.member_ids([item.id]) == {kept}
    assert await stores.collections.collections_of(deleted) == []
    assert (await stores.collections.document_counts(item.id)).total == 1


async def test_deleting_a_collection_keeps_its_documents(stores: Stores) -> None:
    item = collection()
    await stores.collections.add_collection(item)
    member = await stored_document(stores)
    await stores.collections.add_members(item.id, [member])
    assert await stores.collections.delete_collection(item.id)
    assert not await stores.collections.delete_collection(item.id)
    assert await stores.collections.get_collection("alice", item.id) is None
    assert await stores.collections.member_ids([item.id]) == set()
    assert await stores.documents.get_document("alice", member) is not None


async def test_attributes_are_stored_replaced_and_read_for_ready_documents(stores: Stores) -> None:
    ready = await stored_document(stores)
    await stored_document(stores, status=DocumentStatus.PROCESSING)
    await stored_document(stores, user="bob")
    assert await stores.documents.ready_attributes("alice") == {ready: {"year": 2025, "team": "hr"}}
    later = T0 + timedelta(days=1)
    assert await stores.documents.set_attributes(ready, {"draft": True, "score": 0.5}, later)
    document = await stores.documents.get_document("alice", ready)
    assert document is not None and document.attributes == {"draft": True, "score": 0.5}
    assert document.updated_at == later
    assert not await stores.documents.set_attributes(new_id(), {}, later)
