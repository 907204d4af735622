"""The ``qdrant`` chunk index: a Qdrant server (or cluster) for deployments that outgrow one
machine, through the official client; the same client's local mode serves tests.

Each chunk is a point with a dense vector (cosine) and a sparse vector of its analysed terms.
Qdrant applies the IDF of each term itself (``Modifier.IDF``); the term-frequency part of
BM25 is computed here, as Qdrant's own BM25 recipe does, against a fixed average length. The
scope travels as a payload filter, which the server plans against its payload indexes.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from botgpt.adapters.text_analysis import Analyzer
from botgpt.domain.model import Chunk, Document, ScoredChunk, SearchScope, Vector

BATCH = 256
PAYLOAD_FIELDS = ("user_id", "document_id", "embedder")


def term_id(term: str) -> int:
    """A stable 31-bit id for a term (the sparse vector's index)."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=4).digest(), "big") & 0x7FFFFFFF


class QdrantChunkIndex:
    """Chunks of ready documents in Qdrant, one collection per vector dimension."""

    name = "qdrant"

    def __init__(
        self,
        url: str = "",
        path: Path | None = None,
        api_key: str = "",
        prefix: str = "botgpt_chunks",
        k1: float = 1.2,
        b: float = 0.75,
        average_terms: float = 120.0,
    ) -> None:
        self._url, self._path, self._api_key, self._prefix = url, path, api_key, prefix
        self._k1, self._b, self._average = k1, b, average_terms
        self._analyzer = Analyzer()
        self._client: Any = None
        self._known: set[str] = set()

    async def load(self) -> None:
        """Connect (remote) or open the local directory."""
        from qdrant_client import AsyncQdrantClient

        if self._url:
            self._client = AsyncQdrantClient(url=self._url, api_key=self._api_key or None)
        else:
            self._client = AsyncQdrantClient(path=str(self._path))

    async def close(self) -> None:
        """Close the client."""
        if self._client is not None:
            await self._client.close()

    async def publish(self, document: Document, chunks: Sequence[Chunk]) -> None:
        await self.remove([document.id])
        await self.append(document, chunks)

    async def append(self, document: Document, chunks: Sequence[Chunk]) -> None:
        if not chunks:
            return
        collection = await self._collection(len(chunks[0].vector), create=True)
        points = [self._point(document, chunk) for chunk in chunks]
        for start in range(0, len(points), BATCH):
            await self._client.upsert(collection, points[start : start + BATCH], wait=True)

    async def remove(self, document_ids: Sequence[str]) -> None:
        from qdrant_client import models

        if not document_ids:
            return
        selector = models.FilterSelector(filter=models.Filter(must=[_any("document_id", document_ids)]))
        for collection in await self._collections():
            await self._client.delete(collection, points_selector=selector, wait=True)

    async def indexed_documents(self) -> set[str]:
        found: set[str] = set()
        for collection in await self._collections():
            offset = None
            while True:
                points, offset = await self._client.scroll(
                    collection, limit=1024, offset=offset, with_payload=["document_id"], with_vectors=False
                )
                found.update(point.payload["document_id"] for point in points)
                if offset is None:
                    break
        return found

    async def dense(self, scope: SearchScope, vector: Vector, k: int) -> list[ScoredChunk]:
        collection = await self._collection(len(vector), create=False)
        if collection is None or scope.is_empty:
            return []
        return await self._query(collection, list(vector), "dense", scope, k)

    async def lexical(self, scope: SearchScope, query: str, k: int) -> list[ScoredChunk]:
        from qdrant_client import models

        terms = sorted({term_id(term) for term in self._analyzer.terms(query)})
        if not terms or scope.is_empty:
            return []
        hits: list[ScoredChunk] = []
        sparse = models.SparseVector(indices=terms, values=[1.0] * len(terms))
        for collection in await self._collections():
            hits.extend(await self._query(collection, sparse, "bm25", scope, k))
        return _reranked(sorted(hits, key=lambda hit: -hit.score)[:k], "bm25")

    async def _query(self, collection: str, query: Any, kind: str, scope: SearchScope, k: int) -> list[ScoredChunk]:
        using = "dense" if kind == "dense" else "terms"
        response = await self._client.query_points(
            collection, query=query, using=using, query_filter=_scope_filter(scope), limit=k, with_payload=True
        )
        points = [point for point in response.points if kind == "dense" or point.score > 0]
        return [ScoredChunk(_chunk(point), float(point.score), ((kind, rank),)) for rank, point in enumerate(points, 1)]

    def _point(self, document: Document, chunk: Chunk) -> Any:
        from qdrant_client import models

        counts = Counter(term_id(term) for term in self._analyzer.terms(chunk.text))
        length = sum(counts.values())
        norm = self._k1 * (1 - self._b + self._b * length / self._average)
        weights = {term: count * (self._k1 + 1) / (count + norm) for term, count in sorted(counts.items())}
        payload = {
            "user_id": document.user_id,
            "document_id": document.id,
            "embedder": document.embedder or "",
            "ordinal": chunk.ordinal,
            "start": chunk.start,
            "end": chunk.end,
            "text": chunk.text,
        }
        vectors: dict[str, Any] = {"dense": list(chunk.vector)}
        if weights:
            vectors["terms"] = models.SparseVector(indices=list(weights), values=list(weights.values()))
        return models.PointStruct(id=chunk.id, vector=vectors, payload=payload)

    async def _collections(self) -> list[str]:
        listed = await self._client.get_collections()
        self._known = {c.name for c in listed.collections if c.name.startswith(self._prefix + "_")}
        return sorted(self._known)

    async def _collection(self, dimension: int, create: bool) -> str | None:
        from qdrant_client import models

        name = f"{self._prefix}_{dimension}"
        if name in self._known or await self._client.collection_exists(name):
            self._known.add(name)
            return name
        if not create:
            return None
        await self._client.create_collection(
            name,
            vectors_config={"dense": models.VectorParams(size=dimension, distance=models.Distance.COSINE)},
            sparse_vectors_config={"terms": models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )
        if self._url:  # payload indexes let the server plan filtered searches; local mode has none
            for field in PAYLOAD_FIELDS:
                await self._client.create_payload_index(name, field, models.PayloadSchemaType.KEYWORD)
        self._known.add(name)
        return name


def _any(key: str, values: Sequence[str]) -> Any:
    from qdrant_client import models

    return models.FieldCondition(key=key, match=models.MatchAny(any=list(values)))


def _scope_filter(scope: SearchScope) -> Any:
    from qdrant_client import models

    must: list[Any] = [
        models.FieldCondition(key="user_id", match=models.MatchValue(value=scope.user_id)),
        models.FieldCondition(key="embedder", match=models.MatchValue(value=scope.embedder)),
    ]
    if scope.document_ids is not None:
        must.append(_any("document_id", sorted(scope.document_ids)))
    return models.Filter(must=must)


def _chunk(point: Any) -> Chunk:
    payload = point.payload
    return Chunk(
        id=str(point.id).replace("-", ""),
        document_id=payload["document_id"],
        ordinal=payload["ordinal"],
        start=payload["start"],
        end=payload["end"],
        text=payload["text"],
    )


def _reranked(hits: list[ScoredChunk], kind: str) -> list[ScoredChunk]:
    return [ScoredChunk(hit.chunk, hit.score, ((kind, rank),)) for rank, hit in enumerate(hits, 1)]
