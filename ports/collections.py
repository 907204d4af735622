"""The collection storage port: knowledge bases and which documents they hold."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from botgpt.domain.model import Collection, DocumentCounts


class CollectionStore(Protocol):
    """Collections of one user's documents, and their memberships.

    Membership goes with the document: deleting a document removes it from every collection.
    Must pass ``tests/contract/test_collection_store.py``.
    """

    async def add_collection(self, collection: Collection) -> None:
        """Store a new collection."""
        ...

    async def get_collection(self, user_id: str | None, collection_id: str) -> Collection | None:
        """One collection, or None. ``user_id=None`` skips the owner check."""
        ...

    async def list_collections(self, user_id: str, limit: int, offset: int) -> list[Collection]:
        """A user's collections, newest first."""
        ...

    async def count_collections(self, user_id: str) -> int:
        """How many collections the user owns."""
        ...

    async def update_collection(self, collection: Collection) -> bool:
        """Save its name, description and ``updated_at``; False if it is gone."""
        ...

    async def delete_collection(self, collection_id: str) -> bool:
        """Delete the collection and its memberships (not the documents); False if it did not exist."""
        ...

    async def add_members(self, collection_id: str, document_ids: Sequence[str]) -> None:
        """Put documents in the collection; ones already in it stay once."""
        ...

    async def remove_members(self, collection_id: str, document_ids: Sequence[str]) -> int:
        """Take documents out of the collection; returns how many were in it."""
        ...

    async def member_ids(self, collection_ids: Sequence[str]) -> set[str]:
        """The ids of every document in any of these collections."""
        ...

    async def list_members(self, collection_id: str, limit: int, offset: int) -> list[str]:
        """The collection's document ids, most recently added first."""
        ...

    async def collections_of(self, document_id: str) -> list[str]:
        """The ids of the collections holding the document, oldest membership first."""
        ...

    async def document_counts(self, collection_id: str) -> DocumentCounts:
        """How many of the collection's documents are in each ingestion state."""
        ...
