"""Collection use cases: knowledge bases a user builds from their documents."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar

import attrs

from botgpt.domain.errors import CollectionNotFound, DocumentNotFound, InvalidRequest
from botgpt.domain.ids import checked_id, new_id
from botgpt.domain.model import Collection, Document, DocumentCounts, Page
from botgpt.domain.paging import check_paging
from botgpt.ports.collections import CollectionStore
from botgpt.ports.documents import DocumentStore

MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 2000
MAX_DOCUMENTS_PER_CALL = 500
T = TypeVar("T")


@attrs.frozen
class CollectionView:
    """A collection with its documents' status counts."""

    collection: Collection
    counts: DocumentCounts


def checked_name(name: str) -> str:
    """A collection name: 1 to 200 characters, not only spaces."""
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        raise InvalidRequest(f"name must be 1 to {MAX_NAME_CHARS} characters")
    return name


def checked_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise InvalidRequest(f"description must be at most {MAX_DESCRIPTION_CHARS} characters")
    return description


def page_of(items: Sequence[T], total: int, limit: int, offset: int) -> Page[T]:
    """A page of a listing by offset."""
    cursor = str(offset + limit) if offset + len(items) < total else None
    return Page(items=tuple(items), total=total, limit=limit, offset=offset, next_cursor=cursor)


async def owned_collection(store: CollectionStore | None, user_id: str | None, collection_id: str) -> Collection:
    """The collection, if the user owns it; ``CollectionNotFound`` otherwise (also for another
    user's), and ``InvalidRequest`` where no collection store is configured."""
    if store is None:
        raise InvalidRequest("collections are not available with this store")
    found = await store.get_collection(user_id, checked_id(collection_id, "collection id"))
    if found is None:
        raise CollectionNotFound()
    return found


@attrs.define
class CollectionService:
    """Create, list, rename and delete collections, and put a user's documents in them.

    A collection holds only its owner's documents; deleting it keeps them unless asked
    (``delete_document`` is the document use case's delete, so files and index entries go too).
    """

    store: CollectionStore
    documents: DocumentStore
    clock: Callable[[], datetime]
    delete_document: Callable[[str, str], Awaitable[None]]

    async def create(self, user_id: str, name: str, description: str = "") -> CollectionView:
        """A new, empty collection."""
        if not user_id.strip():
            raise InvalidRequest("user_id must not be empty")
        now = self.clock()
        collection = Collection(new_id(), user_id, checked_name(name), now, now, checked_description(description))
        await self.store.add_collection(collection)
        return CollectionView(collection, DocumentCounts())

    async def get(self, user_id: str | None, collection_id: str) -> CollectionView:
        """One collection and its documents' status counts."""
        collection = await self.owned(user_id, collection_id)
        return CollectionView(collection, await self.store.document_counts(collection.id))

    async def owned(self, user_id: str | None, collection_id: str) -> Collection:
        """The collection, if the user owns it; ``CollectionNotFound`` otherwise."""
        return await owned_collection(self.store, user_id, collection_id)

    async def list_collections(self, user_id: str, limit: int = 20, offset: int = 0) -> Page[CollectionView]:
        """A user's collections, newest first, each with its status counts."""
        check_paging(limit, offset)
        found = await self.store.list_collections(user_id, limit, offset)
        views = [CollectionView(c, await self.store.document_counts(c.id)) for c in found]
        return page_of(views, await self.store.count_collections(user_id), limit, offset)

    async def update(
        self, user_id: str | None, collection_id: str, name: str | None = None, description: str | None = None
    ) -> CollectionView:
        """Rename the collection or change its description."""
        collection = await self.owned(user_id, collection_id)
        changed = attrs.evolve(
            collection,
            name=collection.name if name is None else checked_name(name),
            description=collection.description if description is None else checked_description(description),
            updated_at=self.clock(),
        )
        if not await self.store.update_collection(changed):
            raise CollectionNotFound()
        return CollectionView(changed, await self.store.document_counts(changed.id))

    async def delete(self, user_id: str | None, collection_id: str, with_documents: bool = False) -> int:
        """Delete the collection; with ``with_documents``, its documents too. Returns how many
        documents were deleted."""
        collection = await self.owned(user_id, collection_id)
        members = sorted(await self.store.member_ids([collection.id])) if with_documents else []
        if not await self.store.delete_collection(collection.id):
            raise CollectionNotFound()
        for document_id in members:
            try:
                await self.delete_document(collection.user_id, document_id)
            except DocumentNotFound:
                continue  # deleted meanwhile
        return len(members)

    async def add_documents(
        self, user_id: str | None, collection_id: str, document_ids: Sequence[str]
    ) -> CollectionView:
        """Put the user's documents in the collection (each must exist and be theirs)."""
        collection = await self.owned(user_id, collection_id)
        ids = list(dict.fromkeys(checked_id(d, "document id") for d in document_ids))
        if not 1 <= len(ids) <= MAX_DOCUMENTS_PER_CALL:
            raise InvalidRequest(f"document_ids must name 1 to {MAX_DOCUMENTS_PER_CALL} documents")
        for document_id in ids:
            if await self.documents.get_document(collection.user_id, document_id) is None:
                raise DocumentNotFound(f"document {document_id} not found")
        await self.store.add_members(collection.id, ids)
        return await self.get(collection.user_id, collection.id)

    async def remove_document(self, user_id: str | None, collection_id: str, document_id: str) -> CollectionView:
        """Take a document out of the collection (the document stays)."""
        collection = await self.owned(user_id, collection_id)
        if not await self.store.remove_members(collection.id, [checked_id(document_id, "document id")]):
            raise DocumentNotFound("the document is not in this collection")
        return await self.get(collection.user_id, collection.id)

    async def list_documents(
        self, user_id: str | None, collection_id: str, limit: int = 20, offset: int = 0
    ) -> Page[Document]:
        """The collection's documents, most recently added first."""
        check_paging(limit, offset)
        collection = await self.owned(user_id, collection_id)
        ids = await self.store.list_members(collection.id, limit, offset)
        found = [await self.documents.get_document(collection.user_id, d) for d in ids]
        total = (await self.store.document_counts(collection.id)).total
        return page_of([d for d in found if d is not None], total, limit, offset)
