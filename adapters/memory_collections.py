"""In-memory collection store: the ``memory`` backend, and the fake for unit tests."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from botgpt.adapters.memory_documents import MemoryDocumentStore
from botgpt.domain.model import Collection, DocumentCounts


@attrs.define
class MemoryCollectionStore:
    """Collections in a dict; memberships of deleted documents are skipped as they are read."""

    documents: MemoryDocumentStore
    _collections: dict[str, Collection] = attrs.field(factory=dict)
    _members: dict[str, dict[str, int]] = attrs.field(factory=dict)  # collection -> document -> order
    _added: int = 0

    async def add_collection(self, collection: Collection) -> None:
        self._collections[collection.id] = collection
        self._members[collection.id] = {}

    async def get_collection(self, user_id: str | None, collection_id: str) -> Collection | None:
        collection = self._collections.get(collection_id)
        if collection is None or (user_id is not None and collection.user_id != user_id):
            return None
        return collection

    async def list_collections(self, user_id: str, limit: int, offset: int) -> list[Collection]:
        owned = sorted(
            (c for c in self._collections.values() if c.user_id == user_id),
            key=lambda c: (c.created_at, c.id),
            reverse=True,
        )
        return owned[offset : offset + limit]

    async def count_collections(self, user_id: str) -> int:
        return sum(1 for c in self._collections.values() if c.user_id == user_id)

    async def update_collection(self, collection: Collection) -> bool:
        if collection.id not in self._collections:
            return False
        self._collections[collection.id] = collection
        return True

    async def delete_collection(self, collection_id: str) -> bool:
        self._members.pop(collection_id, None)
        return self._collections.pop(collection_id, None) is not None

    async def add_members(self, collection_id: str, document_ids: Sequence[str]) -> None:
        members = self._members.setdefault(collection_id, {})
        for document_id in document_ids:
            if document_id not in members:
                self._added += 1
                members[document_id] = self._added

    async def remove_members(self, collection_id: str, document_ids: Sequence[str]) -> int:
        members = self._live(collection_id)
        removed = [d for d in dict.fromkeys(document_ids) if d in members]
        for document_id in removed:
            del self._members[collection_id][document_id]
        return len(removed)

    async def member_ids(self, collection_ids: Sequence[str]) -> set[str]:
        return {document_id for c in collection_ids for document_id in self._live(c)}

    async def list_members(self, collection_id: str, limit: int, offset: int) -> list[str]:
        members = self._live(collection_id)
        return sorted(members, key=lambda d: members[d], reverse=True)[offset : offset + limit]

    async def collections_of(self, document_id: str) -> list[str]:
        holding = [(m[document_id], c) for c, m in self._members.items() if document_id in m]
        return [c for _, c in sorted(holding)] if self.documents.get_now(document_id) else []

    async def document_counts(self, collection_id: str) -> DocumentCounts:
        counts = {"pending": 0, "processing": 0, "ready": 0, "failed": 0}
        for document_id in self._live(collection_id):
            document = self.documents.get_now(document_id)
            if document is not None:
                counts[document.status.value] += 1
        return DocumentCounts(**counts)

    def _live(self, collection_id: str) -> dict[str, int]:
        members = self._members.get(collection_id, {})
        return {d: order for d, order in members.items() if self.documents.get_now(d) is not None}
