"""Document use cases: upload (with de-duplication), read, list and delete."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import Any

import attrs

from botgpt.domain.attributes import checked_attributes
from botgpt.domain.collections import owned_collection
from botgpt.domain.errors import (
    DocumentNotFound,
    InvalidRequest,
    UnreadableDocument,
    UnsupportedDocument,
    UploadTooLarge,
)
from botgpt.domain.ids import checked_id, new_id
from botgpt.domain.model import AttributeValue, Document, DocumentStatus, Page
from botgpt.domain.paging import check_paging
from botgpt.ports.ai import TextExtractor
from botgpt.ports.blobs import BlobStorage
from botgpt.ports.collections import CollectionStore
from botgpt.ports.documents import DocumentStore
from botgpt.ports.index import ChunkIndex

SNIFF_BYTES = 8192
MAX_FILENAME_CHARS = 255


@attrs.frozen
class Upload:
    """The result of an upload: the document, and whether it already existed."""

    document: Document
    duplicate: bool


@attrs.define
class UploadInspector:
    """Watches an upload stream go by: size limit, hash, and the first bytes for sniffing."""

    max_bytes: int
    size: int = 0
    head: bytes = b""
    _hash: hashlib._Hash = attrs.field(factory=hashlib.sha256)

    async def watch(self, stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async for block in stream:
            self.size += len(block)
            if self.size > self.max_bytes:
                limit = self.max_bytes // (1 << 20)
                raise UploadTooLarge(f"the upload is larger than the {limit} MB limit")
            if len(self.head) < SNIFF_BYTES:
                self.head += block[: SNIFF_BYTES - len(self.head)]
            self._hash.update(block)
            yield block

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


def safe_filename(name: str) -> str:
    """The upload's name if it is a plain file name; ``InvalidRequest`` for paths and tricks."""
    if not name or len(name) > MAX_FILENAME_CHARS:
        raise InvalidRequest(f"filename must be 1 to {MAX_FILENAME_CHARS} characters")
    if any(part in name for part in ("/", "\\", "\x00")) or name in (".", "..") or name.startswith(".."):
        raise InvalidRequest("filename must be a plain file name, not a path")
    if any(ord(character) < 32 for character in name):
        raise InvalidRequest("filename must not contain control characters")
    return name


def extension_of(name: str) -> str:
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""


@attrs.define
class DocumentService:
    """Documents a user uploads for grounded conversations.

    An upload streams to blob storage while it is hashed and measured; its type is checked
    from its name and its first bytes, then its whole content is checked by the extractor.
    Anything wrong removes the blob and raises a 4xx-class error: nothing half-written stays.
    """

    store: DocumentStore
    blobs: BlobStorage
    extractors: Mapping[str, TextExtractor]
    index: ChunkIndex
    clock: Callable[[], datetime]
    max_upload_bytes: int = 50 << 20
    on_queued: Callable[[], None] = lambda: None
    collections: CollectionStore | None = None

    async def upload(
        self,
        user_id: str,
        filename: str,
        stream: AsyncIterator[bytes],
        collection_id: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Upload:
        """Store a file and queue its ingestion; the same bytes twice return the first. With
        ``collection_id`` the document (new or not) joins that collection of the user's; new
        documents take ``attributes``."""
        extractor = self._extractor_for(safe_filename(filename))
        if not user_id.strip():
            raise InvalidRequest("user_id must not be empty")
        checked = checked_attributes(attributes or {})
        if collection_id is not None:
            await owned_collection(self.collections, user_id, collection_id)
        upload = await self._stored(user_id, filename, stream, extractor, checked)
        if collection_id is not None and self.collections is not None:
            await self.collections.add_members(collection_id, [upload.document.id])
        return upload

    async def set_attributes(self, user_id: str | None, document_id: str, attributes: Any) -> Document:
        """Replace a document's attributes (searches filter on them at once)."""
        checked = checked_attributes(attributes)
        document = await self.get(user_id, document_id)
        if not await self.store.set_attributes(document.id, checked, self.clock()):
            raise DocumentNotFound()
        return await self.get(user_id, document_id)

    async def _stored(
        self,
        user_id: str,
        filename: str,
        stream: AsyncIterator[bytes],
        extractor: TextExtractor,
        attributes: dict[str, AttributeValue],
    ) -> Upload:
        document_id = new_id()
        inspector = UploadInspector(self.max_upload_bytes)
        await self.blobs.write(document_id, inspector.watch(stream))
        try:
            await self._check_content(document_id, inspector, extractor)
        except BaseException:
            await self.blobs.delete(document_id)
            raise
        existing = await self.store.find_by_hash(user_id, inspector.sha256)
        if existing is not None:
            await self.blobs.delete(document_id)
            return Upload(existing, duplicate=True)
        document = self._new_document(document_id, user_id, filename, inspector, extractor)
        document = attrs.evolve(document, attributes=attributes)
        await self.store.add_document(document)
        self.on_queued()
        return Upload(document, duplicate=False)

    def _extractor_for(self, filename: str) -> TextExtractor:
        extension = extension_of(filename)
        if extension not in self.extractors:
            supported = ", ".join(sorted(self.extractors))
            raise UnsupportedDocument(f"{extension or 'files without an extension'} not supported; use {supported}")
        return self.extractors[extension]

    async def _check_content(self, key: str, inspector: UploadInspector, extractor: TextExtractor) -> None:
        if inspector.size == 0:
            raise UnreadableDocument("the file is empty")
        if not extractor.sniff(inspector.head):
            raise UnsupportedDocument("the file's content does not match its name's type")
        path = await self.blobs.local_path(key)
        await asyncio.to_thread(extractor.check, path)

    def _new_document(
        self,
        document_id: str,
        user_id: str,
        filename: str,
        inspector: UploadInspector,
        extractor: TextExtractor,
    ) -> Document:
        now = self.clock()
        return Document(
            id=document_id,
            user_id=user_id,
            filename=filename,
            content_type=content_type_of(extension_of(filename)),
            size_bytes=inspector.size,
            sha256=inspector.sha256,
            status=DocumentStatus.PENDING,
            created_at=now,
            updated_at=now,
        )

    async def get(self, user_id: str | None, document_id: str) -> Document:
        """One document, with its ingestion status and progress."""
        checked_id(document_id, "document id")
        document = await self.store.get_document(user_id, document_id)
        if document is None:
            raise DocumentNotFound()
        return document

    async def list_documents(self, user_id: str, limit: int = 20, offset: int = 0) -> Page[Document]:
        """A user's documents, newest first."""
        check_paging(limit, offset)
        items = await self.store.list_documents(user_id, limit, offset)
        total = await self.store.count_documents(user_id)
        more = offset + len(items) < total
        return Page(
            items=tuple(items),
            total=total,
            limit=limit,
            offset=offset,
            next_cursor=str(offset + limit) if more else None,
        )

    async def delete(self, user_id: str | None, document_id: str) -> None:
        """Delete the document, its file, chunks and vectors, and any pending ingestion."""
        document = await self.get(user_id, document_id)
        if not await self.store.delete_document(document.id):
            raise DocumentNotFound()
        await self.index.remove([document.id])
        await self.blobs.delete(document.id)


CONTENT_TYPES = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def content_type_of(extension: str) -> str:
    return CONTENT_TYPES.get(extension, "application/octet-stream")
