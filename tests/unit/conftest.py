from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from botgpt.adapters.file_blobs import FileBlobStorage
from botgpt.adapters.index_retrievers import Bm25Retriever, DenseRetriever
from botgpt.adapters.memory_documents import MemoryDocumentStore
from botgpt.adapters.memory_index import MemoryChunkIndex
from botgpt.domain.documents import DocumentService
from botgpt.domain.fusion import HybridRetriever
from botgpt.domain.ingestion import IngestionPolicy, IngestionWorker
from botgpt.domain.retrieval import RetrievalService
from botgpt.plugins.builtin.chunkers import SentenceChunker
from botgpt.plugins.manager import extractors_by_extension, plugin_manager
from tests.conftest import SteppingClock
from tests.fakes import HashingEmbedder


@pytest.fixture
def documents_store() -> MemoryDocumentStore:
    return MemoryDocumentStore()


@pytest.fixture
def blobs(tmp_path: Path) -> FileBlobStorage:
    return FileBlobStorage(tmp_path / "blobs")


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def chunk_index() -> MemoryChunkIndex:
    return MemoryChunkIndex()


@pytest.fixture
def retriever(chunk_index: MemoryChunkIndex, embedder: HashingEmbedder) -> HybridRetriever:
    return HybridRetriever((DenseRetriever(chunk_index, embedder), Bm25Retriever(chunk_index)))


@pytest.fixture
def document_service(
    documents_store: MemoryDocumentStore,
    blobs: FileBlobStorage,
    chunk_index: MemoryChunkIndex,
    clock: SteppingClock,
) -> DocumentService:
    return DocumentService(
        store=documents_store,
        blobs=blobs,
        extractors=extractors_by_extension(plugin_manager()),
        index=chunk_index,
        clock=clock,
        max_upload_bytes=1 << 20,
    )


@pytest.fixture
def worker(
    documents_store: MemoryDocumentStore,
    chunk_index: MemoryChunkIndex,
    blobs: FileBlobStorage,
    embedder: HashingEmbedder,
    clock: SteppingClock,
) -> IngestionWorker:
    async def no_sleep(_: float) -> None:
        return None

    return IngestionWorker(
        store=documents_store,
        index=chunk_index,
        blobs=blobs,
        extractors=extractors_by_extension(plugin_manager()),
        chunker=SentenceChunker(max_chars=80),
        embedder=embedder,
        clock=clock,
        policy=IngestionPolicy(batch_size=2, lease=timedelta(seconds=30), publish_batch=3),
        sleep=no_sleep,
    )


@pytest.fixture
def retrieval(
    documents_store: MemoryDocumentStore, retriever: HybridRetriever, embedder: HashingEmbedder
) -> RetrievalService:
    return RetrievalService(store=documents_store, retriever=retriever, embedder=embedder)


async def stream(data: bytes, block: int = 7) -> AsyncIterator[bytes]:
    for start in range(0, len(data), block):
        yield data[start : start + block]
