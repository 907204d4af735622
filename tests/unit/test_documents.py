"""Uploads: validation, de-duplication, deletion."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from botgpt.adapters.file_blobs import FileBlobStorage
from botgpt.adapters.memory_documents import MemoryDocumentStore
from botgpt.domain.documents import DocumentService
from botgpt.domain.errors import (
    DocumentNotFound,
    InvalidRequest,
    UnreadableDocument,
    UnsupportedDocument,
    UploadTooLarge,
)
from botgpt.domain.model import DocumentStatus
from tests.unit.conftest import stream

TEXT = b"Lighthouses guide ships. Keepers lived in them.\n"


def stored_files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]


async def test_upload_queues_a_pending_document(
    document_service: DocumentService, documents_store: MemoryDocumentStore, tmp_path: Path
) -> None:
    upload = await document_service.upload("alice", "notes.txt", stream(TEXT))
    assert not upload.duplicate
    document = upload.document
    assert (document.status, document.size_bytes, document.content_type) == (
        DocumentStatus.PENDING,
        len(TEXT),
        "text/plain",
    )
    assert document.sha256 == __import__("hashlib").sha256(TEXT).hexdigest()
    assert len(stored_files(tmp_path)) == 1
    assert await documents_store.claim_job("w", document.created_at, document.created_at) is not None


async def test_same_bytes_twice_return_the_first_document(document_service: DocumentService, tmp_path: Path) -> None:
    first = await document_service.upload("alice", "notes.txt", stream(TEXT))
    again = await document_service.upload("alice", "copy.txt", stream(TEXT))
    assert again.duplicate and again.document == first.document
    assert len(stored_files(tmp_path)) == 1
    other_user = await document_service.upload("bob", "notes.txt", stream(TEXT))
    assert not other_user.duplicate


def docx_bytes(paragraphs: list[str]) -> bytes:
    from docx import Document as WordDocument

    word = WordDocument()
    for paragraph in paragraphs:
        word.add_paragraph(paragraph)
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<" + b"a" * (5 << 20) + b"/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "data", "error"),
    [
        ("empty.txt", b"", UnreadableDocument),
        ("binary.txt", b"\x7fELF\x02\x01\x01\x00\x00\x00", UnsupportedDocument),
        ("nul.txt", b"hello\x00world", UnsupportedDocument),
        ("latin1.txt", b"caf\xe9 " * 10 + b"ok", UnsupportedDocument),
        ("late-bad-utf8.txt", b"fine text " * 2000 + b"\xff\xfe", UnreadableDocument),
        ("fake.pdf", b"just text, not a pdf", UnsupportedDocument),
        ("broken.pdf", b"%PDF-1.4\n garbage", UnreadableDocument),
        ("fake.docx", b"just text", UnsupportedDocument),
        ("notword.docx", b"PK\x03\x04" + b"\x00" * 100, UnreadableDocument),
        ("program.exe", b"MZ\x90\x00", UnsupportedDocument),
        ("noextension", b"text", UnsupportedDocument),
        ("../../etc/passwd.txt", TEXT, InvalidRequest),
        ("..\\evil.txt", TEXT, InvalidRequest),
        ("", TEXT, InvalidRequest),
    ],
)
async def test_bad_uploads_are_refused_and_leave_nothing(
    document_service: DocumentService,
    documents_store: MemoryDocumentStore,
    tmp_path: Path,
    filename: str,
    data: bytes,
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        await document_service.upload("alice", filename, stream(data, block=4096))
    assert stored_files(tmp_path) == []
    assert await documents_store.count_documents("alice") == 0


async def test_a_docx_zip_bomb_is_refused(document_service: DocumentService, tmp_path: Path) -> None:
    document_service.max_upload_bytes = 10 << 20
    with pytest.raises(UnreadableDocument, match="zip bomb"):
        await document_service.upload("alice", "bomb.docx", stream(zip_bomb(), block=1 << 16))
    assert stored_files(tmp_path) == []


async def test_a_real_docx_is_accepted(document_service: DocumentService) -> None:
    upload = await document_service.upload("alice", "memo.docx", stream(docx_bytes(["Hello", "World"]), 4096))
    assert upload.document.content_type.endswith("wordprocessingml.document")


async def test_oversized_uploads_are_refused_midstream(document_service: DocumentService, tmp_path: Path) -> None:
    with pytest.raises(UploadTooLarge):
        await document_service.upload("alice", "big.txt", stream(b"a" * ((1 << 20) + 1), block=1 << 16))
    assert stored_files(tmp_path) == []


async def test_delete_removes_the_file_and_scopes_by_owner(
    document_service: DocumentService, blobs: FileBlobStorage, tmp_path: Path
) -> None:
    document = (await document_service.upload("alice", "notes.txt", stream(TEXT))).document
    with pytest.raises(DocumentNotFound):
        await document_service.delete("bob", document.id)
    await document_service.delete("alice", document.id)
    assert stored_files(tmp_path) == []
    with pytest.raises(DocumentNotFound):
        await document_service.get("alice", document.id)


async def test_listing_pages(document_service: DocumentService) -> None:
    for i in range(3):
        await document_service.upload("alice", f"n{i}.txt", stream(TEXT + bytes([65 + i])))
    page = await document_service.list_documents("alice", limit=2)
    assert page.total == 3 and len(page.items) == 2 and page.has_more
    with pytest.raises(InvalidRequest):
        await document_service.list_documents("alice", limit=0)
