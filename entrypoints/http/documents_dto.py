"""Request and response bodies of the document and search endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from botgpt.domain.model import Document, Page
from botgpt.domain.retrieval import SearchResult
from botgpt.entrypoints.http.fields_dto import (
    ATTRIBUTES_SCHEMA,
    ID_PATTERN,
    NOT_BLANK,
    Filters,
    Id,
    K,
    Limit,
    Offset,
    Query,
    UserId,
)


@attrs.define
class ProgressOut:
    chunks_embedded: int
    chunks_total: int


@attrs.define
class DocumentOut:
    id: str
    document_id: str
    user_id: str
    filename: str
    content_type: str
    file_size: int
    sha256: str
    status: str
    is_vectorized: bool
    progress: ProgressOut
    chunk_count: int
    error: str | None
    embedder: str | None
    created_at: datetime
    updated_at: datetime
    metadata: dict[str, Any]
    attributes: dict[str, Any]


@attrs.define
class UploadOut(DocumentOut):
    duplicate: bool = False
    chunks: int = 0


@attrs.define
class DocumentListOut:
    documents: list[DocumentOut]
    total: int
    limit: int
    offset: int
    has_more: bool


@attrs.define
class DocumentDeletedOut:
    deleted: bool
    document_id: str
    message: str


@attrs.define
class SearchIn:
    """Without `document_ids` or `collection_ids`, every ready document of the user is searched;
    with them, their union. `filters` (OpenAI's comparison and compound shape) narrows either."""

    query: Query
    document_ids: list[Id] | None = None
    collection_ids: list[Id] | None = None
    filters: Filters | None = None
    k: K = 5
    explain: bool = False
    user_id: UserId | None = None


@attrs.define
class SearchHitOut:
    rank: int
    score: float
    document_id: str
    filename: str
    chunk_id: str
    start: int
    end: int
    text: str
    ranks: dict[str, int] | None
    attributes: dict[str, Any]


@attrs.define
class SearchOut:
    query: str
    retriever: str
    results: list[SearchHitOut]


@attrs.define
class DocumentListQuery:
    user_id: UserId | None = None
    limit: Limit = 20
    offset: Offset = 0


def document_out(document: Document) -> DocumentOut:
    return DocumentOut(**_document_fields(document))


def upload_out(document: Document, duplicate: bool) -> UploadOut:
    return UploadOut(**_document_fields(document), duplicate=duplicate, chunks=document.chunks_total)


def _document_fields(document: Document) -> dict[str, Any]:
    return dict(
        id=document.id,
        document_id=document.id,
        user_id=document.user_id,
        filename=document.filename,
        content_type=document.content_type,
        file_size=document.size_bytes,
        sha256=document.sha256,
        status=document.status.value,
        is_vectorized=document.is_vectorized,
        progress=ProgressOut(document.chunks_embedded, document.chunks_total),
        chunk_count=document.chunks_total,
        error=document.error,
        embedder=document.embedder,
        created_at=document.created_at,
        updated_at=document.updated_at,
        metadata={"content_type": document.content_type, "original_filename": document.filename},
        attributes=dict(document.attributes),
    )


def document_page_out(page: Page[Document]) -> DocumentListOut:
    return DocumentListOut(
        documents=[document_out(d) for d in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        has_more=page.has_more,
    )


def search_out(query: str, retriever: str, found: SearchResult, explain: bool) -> SearchOut:
    return SearchOut(
        query=query,
        retriever=retriever,
        results=[
            SearchHitOut(
                rank=rank,
                score=round(hit.score, 6),
                document_id=hit.chunk.document_id,
                filename=found.documents[hit.chunk.document_id].filename,
                attributes=dict(found.documents[hit.chunk.document_id].attributes),
                chunk_id=hit.chunk.id,
                start=hit.chunk.start,
                end=hit.chunk.end,
                text=hit.chunk.text,
                ranks=dict(hit.ranks) if explain else None,
            )
            for rank, hit in enumerate(found.hits, start=1)
        ],
    )


# The upload is multipart, which no request model describes: its OpenAPI request body, so that
# Swagger UI's "Try it out" offers a file picker. An empty field is a field left unfilled (an
# HTML form, or "Try it out" sends one for every field it shows): the server treats it as absent,
# so the schemas allow "", and the examples are that harmless "" (or {}) rather than the made-up
# values Swagger UI would otherwise generate (a user "m", a random collection id: a 404).
UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "The document (txt, md, pdf, docx, …)",
                    },
                    "user_id": {
                        "type": "string",
                        "pattern": "^$|" + NOT_BLANK,
                        "example": "",
                        "description": "Open mode only; else the key's user. Empty or left out: the default user",
                    },
                    "collection_id": {
                        "type": "string",
                        "pattern": "^$|" + ID_PATTERN,
                        "example": "",
                        "description": "Add it to this collection. Empty or left out: none",
                    },
                    "attributes": {
                        **ATTRIBUTES_SCHEMA,
                        "example": {},
                        "description": "A JSON object (empty or left out: none): " + ATTRIBUTES_SCHEMA["description"],
                    },
                },
                "required": ["file"],
            },
            "encoding": {"attributes": {"contentType": "application/json"}},
        }
    },
}
