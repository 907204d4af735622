"""/api/v1/documents (the seed's endpoints) and /api/v1/search."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import IO, Any

from dependency_injector.wiring import Provide, inject
from quart import Blueprint, request
from quart_schema import validate_querystring, validate_request, validate_response

from botgpt.domain.documents import DocumentService
from botgpt.domain.errors import InvalidRequest
from botgpt.domain.model import ScopeRequest
from botgpt.domain.retrieval import RetrievalService
from botgpt.entrypoints.http.collections_dto import UpdateDocumentIn
from botgpt.entrypoints.http.documents_dto import (
    UPLOAD_BODY,
    DocumentDeletedOut,
    DocumentListOut,
    DocumentListQuery,
    DocumentOut,
    SearchIn,
    SearchOut,
    UploadOut,
    document_out,
    document_page_out,
    search_out,
    upload_out,
)
from botgpt.entrypoints.http.openapi import operation
from botgpt.entrypoints.http.paging_dto import OwnerQuery
from botgpt.entrypoints.http.routes import as_caller

documents = Blueprint("documents", __name__, url_prefix="/api/v1/documents")
search = Blueprint("search", __name__, url_prefix="/api/v1")

SERVICE = Provide["documents"]
RETRIEVAL = Provide["retrieval"]
BLOCK = 1 << 16


def _json_object(text: str | None, field: str) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidRequest(f"{field} must be a JSON object") from None
    if not isinstance(value, dict):
        raise InvalidRequest(f"{field} must be a JSON object")
    return value


async def _blocks(stream: IO[bytes]) -> AsyncIterator[bytes]:
    # The multipart parser spools large files to disk; read them back a block at a time.
    while block := await asyncio.to_thread(stream.read, BLOCK):
        yield block


@documents.post("")
@operation("Upload a document", 404, 415, request_body=UPLOAD_BODY)
@validate_response(UploadOut, 201)
@validate_response(UploadOut, 200)
@as_caller(acts=True, form=True)
@inject
async def upload_document(user_id: str, service: DocumentService = SERVICE) -> tuple[UploadOut, int]:
    """Upload a file (multipart: `file`, `user_id`, optional `collection_id` and `attributes` as a
    JSON object; an empty field counts as left out). Answers at once; ingestion runs in the
    background. The same bytes uploaded again by the same user return the first document with
    `duplicate: true` (and join the collection). An unknown `collection_id` is 404."""
    upload = (await request.files).get("file")
    if upload is None:
        raise InvalidRequest("send the document as the multipart field `file`")
    form = await request.form
    result = await service.upload(
        user_id,
        upload.filename or "",
        _blocks(upload.stream),
        collection_id=form.get("collection_id") or None,
        attributes=_json_object(form.get("attributes"), "attributes"),
    )
    return upload_out(result.document, result.duplicate), 200 if result.duplicate else 201


@documents.get("")
@operation("List documents")
@validate_querystring(DocumentListQuery)
@validate_response(DocumentListOut)
@as_caller(acts=True)
@inject
async def list_documents(
    query_args: DocumentListQuery, user_id: str, service: DocumentService = SERVICE
) -> DocumentListOut:
    """The user's documents, newest first."""
    return document_page_out(await service.list_documents(user_id, query_args.limit, query_args.offset))


@documents.patch("/<document_id>")
@operation("Set a document's attributes")
@validate_request(UpdateDocumentIn)
@validate_response(DocumentOut)
@as_caller()
@inject
async def update_document(
    document_id: str, data: UpdateDocumentIn, user_id: str | None, service: DocumentService = SERVICE
) -> DocumentOut:
    """Replace a document's attributes; searches and RAG filters see them at once."""
    return document_out(await service.set_attributes(user_id, document_id, data.attributes))


@documents.get("/<document_id>")
@operation("Get a document")
@validate_querystring(OwnerQuery)
@validate_response(DocumentOut)
@as_caller()
@inject
async def get_document(
    document_id: str,
    query_args: OwnerQuery,
    user_id: str | None,
    service: DocumentService = SERVICE,
) -> DocumentOut:
    """One document with its ingestion status and progress."""
    return document_out(await service.get(user_id, document_id))


@documents.delete("/<document_id>")
@operation("Delete a document")
@validate_querystring(OwnerQuery)
@validate_response(DocumentDeletedOut)
@as_caller()
@inject
async def delete_document(
    document_id: str,
    query_args: OwnerQuery,
    user_id: str | None,
    service: DocumentService = SERVICE,
) -> DocumentDeletedOut:
    """Delete a document with its file, chunks and vectors."""
    await service.delete(user_id, document_id)
    return DocumentDeletedOut(deleted=True, document_id=document_id, message="Document deleted successfully")


@search.post("/search")
@operation("Search documents", 404)
@validate_request(SearchIn)
@validate_response(SearchOut)
@as_caller(acts=True)
@inject
async def search_documents(data: SearchIn, user_id: str, retrieval: RetrievalService = RETRIEVAL) -> SearchOut:
    """Rank the chunks of the user's documents for a query; `explain` adds each retriever's rank."""
    sources = ScopeRequest(tuple(data.document_ids or ()), tuple(data.collection_ids or ()), data.filters)
    found = await retrieval.search_with_documents(user_id, data.query, sources, data.k)
    return search_out(data.query, retrieval.retriever.name, found, data.explain)
