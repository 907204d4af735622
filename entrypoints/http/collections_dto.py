"""Request and response bodies of the collection endpoints."""

from __future__ import annotations

from datetime import datetime

import attrs

from botgpt.domain.collections import CollectionView
from botgpt.domain.model import Page
from botgpt.entrypoints.http.fields_dto import Attributes, Description, DocumentIds, Name, UserId


@attrs.define
class CreateCollectionIn:
    name: Name
    description: Description = ""
    user_id: UserId | None = None


@attrs.define
class UpdateCollectionIn:
    """Fields left out keep their value."""

    name: Name | None = None
    description: Description | None = None
    user_id: UserId | None = None


@attrs.define
class AddDocumentsIn:
    document_ids: DocumentIds
    user_id: UserId | None = None


@attrs.define
class UpdateDocumentIn:
    """The document's attributes, replaced whole: up to 16 keys; string, number or boolean values."""

    attributes: Attributes
    user_id: UserId | None = None


@attrs.define
class DeleteCollectionQuery:
    user_id: UserId | None = None
    delete_documents: bool = False


@attrs.define
class DocumentCountsOut:
    """How many of the collection's documents are in each ingestion state (OpenAI's `file_counts`)."""

    total: int
    pending: int
    processing: int
    ready: int
    failed: int


@attrs.define
class CollectionOut:
    id: str
    user_id: str
    name: str
    description: str
    created_at: datetime
    updated_at: datetime
    document_counts: DocumentCountsOut


@attrs.define
class CollectionListOut:
    collections: list[CollectionOut]
    total: int
    limit: int
    offset: int
    has_more: bool


@attrs.define
class CollectionDeletedOut:
    deleted: bool
    collection_id: str
    documents_deleted: int


def collection_out(view: CollectionView) -> CollectionOut:
    counts = view.counts
    return CollectionOut(
        id=view.collection.id,
        user_id=view.collection.user_id,
        name=view.collection.name,
        description=view.collection.description,
        created_at=view.collection.created_at,
        updated_at=view.collection.updated_at,
        document_counts=DocumentCountsOut(counts.total, counts.pending, counts.processing, counts.ready, counts.failed),
    )


def collection_page_out(page: Page[CollectionView]) -> CollectionListOut:
    return CollectionListOut(
        collections=[collection_out(view) for view in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        has_more=page.has_more,
    )
