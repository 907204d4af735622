"""Retrieval orchestration: resolve what a search may see, then ask the configured retriever."""

from __future__ import annotations

import time
from collections.abc import Sequence

import attrs

from botgpt.domain.collections import owned_collection
from botgpt.domain.errors import (
    DocumentNotFound,
    DocumentNotReady,
    EmbedderMismatch,
    InvalidRequest,
)
from botgpt.domain.filters import matching, parse_filter
from botgpt.domain.ids import checked_id
from botgpt.domain.model import Document, DocumentStatus, ScopeRequest, ScoredChunk, SearchScope, Vector
from botgpt.ports.ai import Embedder, Reranker, Retriever
from botgpt.ports.collections import CollectionStore
from botgpt.ports.documents import DocumentStore
from botgpt.ports.telemetry import NO_METRICS, NO_TRACER, Metrics, Tracer

MAX_K = 100
MAX_QUERY_CHARS = 4000
EVERYTHING = ScopeRequest()  # all of a user's ready documents


async def owned_document_ids(store: DocumentStore, user_id: str, document_ids: Sequence[str]) -> list[str]:
    """Those of ``document_ids`` that exist and belong to ``user_id``, in order."""
    return [d for d in document_ids if await store.get_document(user_id, d) is not None]


async def embed_queries(embedder: Embedder, texts: Sequence[str]) -> list[Vector]:
    """Search queries' vectors: ``embed_queries`` where the embedder encodes queries apart from
    passages (``QueryEmbedder``), ``embed`` otherwise."""
    embed = getattr(embedder, "embed_queries", embedder.embed)
    return list(await embed(texts))


@attrs.frozen
class SearchResult:
    """Ranked chunks and the documents they come from, by id."""

    hits: list[ScoredChunk]
    documents: dict[str, Document]


@attrs.define
class RetrievalService:
    """Searches a user's ready documents, all of them or a chosen few, with the configured
    retriever; the index engine behind the retriever does the ranking."""

    store: DocumentStore
    retriever: Retriever
    embedder: Embedder
    reranker: Reranker | None = None
    rerank_depth: int = 20
    collections: CollectionStore | None = None
    metrics: Metrics = NO_METRICS
    tracer: Tracer = NO_TRACER

    async def search(
        self, user_id: str | None, query: str, document_ids: Sequence[str] = (), k: int = 5
    ) -> list[ScoredChunk]:
        """The best ``k`` chunks of the documents (all the user's ready ones when none are named)."""
        return (await self.search_with_documents(user_id, query, ScopeRequest(tuple(document_ids)), k)).hits

    async def search_with_documents(
        self, user_id: str | None, query: str, request: ScopeRequest = EVERYTHING, k: int = 5
    ) -> SearchResult:
        """Search what ``request`` names, also returning the hits' documents (for their names)."""
        if not query.strip() or len(query) > MAX_QUERY_CHARS:
            raise InvalidRequest(f"query must be 1 to {MAX_QUERY_CHARS} characters")
        if not 1 <= k <= MAX_K:
            raise InvalidRequest(f"k must be between 1 and {MAX_K}")
        return await self.search_scope(query, await self.scope(user_id, request), k)

    async def scope(self, user_id: str | None, request: ScopeRequest = EVERYTHING) -> SearchScope:
        """What a search may see. Named documents must each be the user's and ready, named
        collections the user's (404 otherwise); the filter is checked (422) and narrows the rest."""
        owner, ids = user_id, None
        if request.document_ids:
            documents = await self.ready_documents(user_id, request.document_ids)
            self._check_embedder(documents)
            owner, ids = _one_owner(documents), {d.id for d in documents}
        if owner is None:
            raise InvalidRequest("user_id is required to search collections or all of a user's documents")
        if request.collection_ids:
            ids = (ids or set()) | await self._members(owner, request.collection_ids)
        if request.filters is not None:
            matched = matching(parse_filter(request.filters), await self.store.ready_attributes(owner))
            ids = matched if ids is None else ids & matched
        return SearchScope(owner, self.embedder.name, None if ids is None else frozenset(ids))

    async def _members(self, user_id: str, collection_ids: Sequence[str]) -> set[str]:
        for collection_id in dict.fromkeys(collection_ids):
            await owned_collection(self.collections, user_id, collection_id)
        assert self.collections is not None  # owned_collection refuses without a store
        return await self.collections.member_ids(collection_ids)

    async def search_scope(self, query: str, scope: SearchScope, k: int) -> SearchResult:
        """Search a resolved scope. With a reranker, the retriever's top ``rerank_depth`` are
        reordered by it before the best ``k`` are kept. Hits of documents deleted meanwhile
        (the index may lag the store by a moment) are dropped."""
        if self.reranker is None:
            ranked = await self._retrieve(query, scope, k)
        else:
            candidates = await self._retrieve(query, scope, max(k, self.rerank_depth))
            ranked = (await self._rerank(self.reranker, query, candidates))[:k]
        documents = await self._ready_by_id(scope.user_id, {hit.chunk.document_id for hit in ranked})
        return SearchResult([hit for hit in ranked if hit.chunk.document_id in documents], documents)

    async def _retrieve(self, query: str, scope: SearchScope, k: int) -> list[ScoredChunk]:
        name, started = self.retriever.name, time.monotonic()
        with self.tracer.span(f"retrieve.{name}", retriever=name, k=k) as span:
            hits = await self.retriever.search(query, scope, k)
            span.set("hits", len(hits))
        self.metrics.retrieval_timed(name, time.monotonic() - started)
        return hits

    async def _rerank(self, reranker: Reranker, query: str, candidates: list[ScoredChunk]) -> list[ScoredChunk]:
        started = time.monotonic()
        with self.tracer.span("rerank", reranker=reranker.name, candidates=len(candidates)):
            ranked = await reranker.rerank(query, candidates)
        self.metrics.rerank_timed(reranker.name, time.monotonic() - started)
        return ranked

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

    async def _ready_by_id(self, user_id: str, document_ids: set[str]) -> dict[str, Document]:
        found = {}
        for document_id in sorted(document_ids):
            document = await self.store.get_document(user_id, document_id)
            if document is not None and document.status is DocumentStatus.READY:
                found[document_id] = document
        return found

    async def existing_collection_ids(self, user_id: str, collection_ids: Sequence[str]) -> list[str]:
        """Those of ``collection_ids`` that the user still owns, in order."""
        if self.collections is None:
            return []
        return [c for c in collection_ids if await self.collections.get_collection(user_id, c) is not None]

    def _check_embedder(self, documents: Sequence[Document]) -> None:
        foreign = sorted({d.embedder for d in documents if d.embedder != self.embedder.name}, key=str)
        if foreign:
            raise EmbedderMismatch(
                f"documents were embedded with {', '.join(map(str, foreign))}, but the configured "
                f"embedder is {self.embedder.name}; run `botgpt reindex` or configure that embedder"
            )


def _one_owner(documents: Sequence[Document]) -> str:
    owners = {document.user_id for document in documents}
    if len(owners) != 1:
        raise InvalidRequest("the documents of one search must belong to one user")
    return owners.pop()
