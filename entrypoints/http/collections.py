"""/api/v1/collections: knowledge bases of a user's documents."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from quart import Blueprint
from quart_schema import validate_querystring, validate_request, validate_response

from botgpt.domain.collections import CollectionService
from botgpt.entrypoints.http.collections_dto import (
    AddDocumentsIn,
    CollectionDeletedOut,
    CollectionListOut,
    CollectionOut,
    CreateCollectionIn,
    DeleteCollectionQuery,
    UpdateCollectionIn,
    collection_out,
    collection_page_out,
)
from botgpt.entrypoints.http.documents_dto import DocumentListOut, DocumentListQuery, document_page_out
from botgpt.entrypoints.http.openapi import operation
from botgpt.entrypoints.http.paging_dto import OwnerQuery
from botgpt.entrypoints.http.routes import as_caller

blueprint = Blueprint("collections", __name__, url_prefix="/api/v1/collections")
SERVICE = Provide["collections"]


@blueprint.post("")
@operation("Create a collection")
@validate_request(CreateCollectionIn)
@validate_response(CollectionOut, 201)
@as_caller(acts=True)
@inject
async def create_collection(
    data: CreateCollectionIn, user_id: str, service: CollectionService = SERVICE
) -> tuple[CollectionOut, int]:
    """Create an empty collection; add documents to it, or upload into it."""
    return collection_out(await service.create(user_id, data.name, data.description)), 201


@blueprint.get("")
@operation("List collections")
@validate_querystring(DocumentListQuery)
@validate_response(CollectionListOut)
@as_caller(acts=True)
@inject
async def list_collections(
    query_args: DocumentListQuery, user_id: str, service: CollectionService = SERVICE
) -> CollectionListOut:
    """The user's collections, newest first, each with its documents' status counts."""
    return collection_page_out(await service.list_collections(user_id, query_args.limit, query_args.offset))


@blueprint.get("/<collection_id>")
@operation("Get a collection")
@validate_querystring(OwnerQuery)
@validate_response(CollectionOut)
@as_caller()
@inject
async def get_collection(
    collection_id: str, query_args: OwnerQuery, user_id: str | None, service: CollectionService = SERVICE
) -> CollectionOut:
    """One collection with its documents' status counts."""
    return collection_out(await service.get(user_id, collection_id))


@blueprint.patch("/<collection_id>")
@operation("Update a collection")
@validate_request(UpdateCollectionIn)
@validate_response(CollectionOut)
@as_caller()
@inject
async def update_collection(
    collection_id: str, data: UpdateCollectionIn, user_id: str | None, service: CollectionService = SERVICE
) -> CollectionOut:
    """Rename a collection or change its description."""
    return collection_out(await service.update(user_id, collection_id, data.name, data.description))


@blueprint.delete("/<collection_id>")
@operation("Delete a collection")
@validate_querystring(DeleteCollectionQuery)
@validate_response(CollectionDeletedOut)
@as_caller()
@inject
async def delete_collection(
    collection_id: str, query_args: DeleteCollectionQuery, user_id: str | None, service: CollectionService = SERVICE
) -> CollectionDeletedOut:
    """Delete a collection. Its documents stay unless `delete_documents=true`."""
    deleted = await service.delete(user_id, collection_id, query_args.delete_documents)
    return CollectionDeletedOut(deleted=True, collection_id=collection_id, documents_deleted=deleted)


@blueprint.post("/<collection_id>/documents")
@operation("Add documents to a collection")
@validate_request(AddDocumentsIn)
@validate_response(CollectionOut)
@as_caller()
@inject
async def add_documents(
    collection_id: str, data: AddDocumentsIn, user_id: str | None, service: CollectionService = SERVICE
) -> CollectionOut:
    """Add documents (the user's own) to the collection; a document may be in several."""
    return collection_out(await service.add_documents(user_id, collection_id, data.document_ids))


@blueprint.get("/<collection_id>/documents")
@operation("List a collection's documents")
@validate_querystring(DocumentListQuery)
@validate_response(DocumentListOut)
@as_caller()
@inject
async def list_collection_documents(
    collection_id: str, query_args: DocumentListQuery, user_id: str | None, service: CollectionService = SERVICE
) -> DocumentListOut:
    """The collection's documents, most recently added first."""
    page = await service.list_documents(user_id, collection_id, query_args.limit, query_args.offset)
    return document_page_out(page)


@blueprint.delete("/<collection_id>/documents/<document_id>")
@operation("Remove a document from a collection")
@validate_querystring(OwnerQuery)
@validate_response(CollectionOut)
@as_caller()
@inject
async def remove_document(
    collection_id: str,
    document_id: str,
    query_args: OwnerQuery,
    user_id: str | None,
    service: CollectionService = SERVICE,
) -> CollectionOut:
    """Take a document out of the collection; the document itself stays."""
    return collection_out(await service.remove_document(user_id, collection_id, document_id))
