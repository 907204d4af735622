"""/api/v1/documents (the seed's endpoints) and /api/v1/search."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import IO

from dependency_injector.wiring import Provide, inject
from quart import Blueprint, request
from quart_schema import validate_querystring, validate_request, validate_response

from botgpt.domain.documents import DocumentService
from botgpt.domain.errors import InvalidRequest
from botgpt.domain.retrieval import RetrievalService
from botgpt.entrypoints.http.documents_dto import (
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
from botgpt.entrypoints.http.paging_dto import OwnerQuery
from botgpt.entrypoints.http.routes import as_caller

documents = Blueprint("documents", __name__, url_prefix="/api/v1/documents")
search = Blueprint("search", __name__, url_prefix="/api/v1")

SERVICE = Provide["documents"]
RETRIEVAL = Provide["retrieval"]
BLOCK = 1 << 16


async def _blocks(stream: IO[bytes]) -> AsyncIterator[bytes]:
    # The multipart parser spools large files to disk; read them back a block at a time.
    while block := await asyncio.to_thread(stream.read, BLOCK):
        yield block


@documents.post("")
@validate_response(UploadOut, 201)
@validate_response(UploadOut, 200)
@as_caller(required="user_id is required to upload a document", form=True)
@inject
async def upload_document(user_id: str, service: DocumentService = SERVICE) -> tuple[UploadOut, int]:
    """Upload a file (multipart: `file`, `user_id`). Answers at once; ingestion runs in the background.
    The same bytes uploaded again by the same user return the first document with `duplicate: true`."""
    upload = (await request.files).get("file")
    if upload is None:
        raise InvalidRequest("send the document as the multipart field `file`")
    result = await service.upload(user_id, upload.filename or "", _blocks(upload.stream))
    return upload_out(result.document, result.duplicate), 200 if result.duplicate else 201


@documents.get("")
@validate_querystring(DocumentListQuery)
@validate_response(DocumentListOut)
@as_caller(required="user_id is required to list documents")
@inject
async def list_documents(
    query_args: DocumentListQuery, user_id: str, service: DocumentService = SERVICE
) -> DocumentListOut:
    """The user's documents, newest first."""
    return document_page_out(await service.list_documents(user_id, query_args.limit, query_args.offset))


@documents.get("/<document_id>")
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
@validate_request(SearchIn)
@validate_response(SearchOut)
@as_caller()
@inject
async def search_documents(data: SearchIn, user_id: str | None, retrieval: RetrievalService = RETRIEVAL) -> SearchOut:
    """Rank the chunks of the user's documents for a query; `explain` adds each retriever's rank."""
    found = await retrieval.search_with_documents(user_id, data.query, data.document_ids or (), data.k)
    filenames = {document_id: document.filename for document_id, document in found.documents.items()}
    return search_out(data.query, retrieval.retriever.name, found.hits, filenames, data.explain)
