"""Retrieval orchestration: check the documents, then ask the configured retriever."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from botgpt.domain.errors import DocumentNotFound, DocumentNotReady, EmbedderMismatch, InvalidRequest
from botgpt.domain.ids import checked_id
from botgpt.domain.model import Document, DocumentStatus, ScoredChunk, Vector
from botgpt.ports.ai import Embedder, Reranker, Retriever
from botgpt.ports.documents import DocumentStore

MAX_K = 100
MAX_QUERY_CHARS = 4000


async def owned_document_ids(store: DocumentStore, user_id: str, document_ids: Sequence[str]) -> list[str]:
    """Those of ``document_ids`` that exist and belong to ``user_id``, in order."""
    return [d for d in document_ids if await store.get_document(user_id, d) is not None]


async def embed_queries(embedder: Embedder, texts: Sequence[str]) -> list[Vector]:
    """Search queries' vectors: ``embed_queries`` where the embedder encodes queries apart from
    passages (``QueryEmbedder``), ``embed`` otherwise."""
    embed = getattr(embedder, "embed_queries", embedder.embed)
    return list(await embed(texts))


@attrs.define
class RetrievalService:
    """Searches a user's ready documents with the configured retriever."""

    store: DocumentStore
    retriever: Retriever
    embedder: Embedder
    reranker: Reranker | None = None
    rerank_depth: int = 20

    async def search(
        self, user_id: str | None, query: str, document_ids: Sequence[str], k: int = 5
    ) -> list[ScoredChunk]:
        """The best ``k`` chunks of the documents for ``query``."""
        return (await self.search_with_documents(user_id, query, document_ids, k))[0]

    async def search_with_documents(
        self, user_id: str | None, query: str, document_ids: Sequence[str], k: int = 5
    ) -> tuple[list[ScoredChunk], list[Document]]:
        """``search``, also returning the checked documents (for their file names)."""
        if not query.strip() or len(query) > MAX_QUERY_CHARS:
            raise InvalidRequest(f"query must be 1 to {MAX_QUERY_CHARS} characters")
        if not 1 <= k <= MAX_K:
            raise InvalidRequest(f"k must be between 1 and {MAX_K}")
        documents = await self.ready_documents(user_id, document_ids)
        return await self.search_documents(query, documents, k), documents

    async def search_documents(self, query: str, documents: Sequence[Document], k: int) -> list[ScoredChunk]:
        """Search documents already checked by ``ready_documents``. With a reranker, the
        retriever's top ``rerank_depth`` are reordered by it before the best ``k`` are kept."""
        self._check_embedder(documents)
        if self.reranker is None:
            return await self.retriever.search(query, documents, k)
        candidates = await self.retriever.search(query, documents, max(k, self.rerank_depth))
        return (await self.reranker.rerank(query, candidates))[:k]

    async def ready_documents(self, user_id: str | None, document_ids: Sequence[str]) -> list[Document]:
        """The documents, each owned by the user and ready; 404 or 409 otherwise."""
        if not document_ids:
            raise InvalidRequest("document_ids must name at least one document")
        documents = []
        for document_id in dict.fromkeys(document_ids):
            document = await self.store.get_document(user_id, checked_id(document_id, "document id"))
            if document is None:
                raise DocumentNotFound(f"document {document_id} not found")
            if document.status is not DocumentStatus.READY:
                raise DocumentNotReady(
                    f"document {document_id} is {document.status.value}",
                    document_id=document.id,
                    status=document.status.value,
                )
            documents.append(document)
        return documents

    async def existing_document_ids(self, user_id: str, document_ids: Sequence[str]) -> list[str]:
        """Those of ``document_ids`` that the user still owns (in any state), in order."""
        return await owned_document_ids(self.store, user_id, document_ids)

    def _check_embedder(self, documents: Sequence[Document]) -> None:
        foreign = sorted({d.embedder for d in documents if d.embedder != self.embedder.name}, key=str)
        if foreign:
            raise EmbedderMismatch(
                f"documents were embedded with {', '.join(map(str, foreign))}, but the configured "
                f"embedder is {self.embedder.name}; run `botgpt reindex` or configure that embedder"
            )
