"""Built-in retrievers: ``dense`` (numpy cosine), ``bm25`` and ``hybrid`` (reciprocal-rank fusion).

Each keeps per-document data in memory after its first use, and a small LRU of the
combined index for the document sets it was asked about (a RAG conversation asks about the
same set turn after turn).
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import attrs
import numpy as np
import numpy.typing as npt

from botgpt.domain.fusion import reciprocal_rank_fusion
from botgpt.domain.model import Chunk, Document, ScoredChunk
from botgpt.plugins.hookspecs import RegisterRetriever, RetrieverContext, hookimpl
from botgpt.ports.ai import Embedder, Retriever
from botgpt.ports.documents import DocumentStore

Matrix = npt.NDArray[np.float32]
K = TypeVar("K")
V = TypeVar("V")
SET_CACHE_SIZE = 8


class Lru(Generic[K, V]):
    """A tiny least-recently-used map."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        if key in self._items:
            self._items.move_to_end(key)
        return self._items.get(key)

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def drop_where(self, predicate: Callable[[K], bool]) -> None:
        for key in [key for key in self._items if predicate(key)]:
            del self._items[key]


def set_key(documents: Sequence[Document]) -> tuple[tuple[str, str], ...]:
    """Identifies a document set, and changes if any document is re-ingested."""
    return tuple(sorted((d.id, d.updated_at.isoformat()) for d in documents))


def top_indices(scores: npt.NDArray[Any], k: int) -> npt.NDArray[np.intp]:
    """Indices of the ``k`` largest scores, best first (ties: lower index first)."""
    k = min(k, len(scores))
    if k == 0:
        return np.empty(0, dtype=np.intp)
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return part[np.lexsort((part, -scores[part]))]


@attrs.define
class ChunkCache:
    """Chunks of each document, loaded once from the store."""

    store: DocumentStore
    _chunks: dict[str, list[Chunk]] = attrs.field(factory=dict)

    async def of(self, document: Document) -> list[Chunk]:
        if document.id not in self._chunks:
            self._chunks[document.id] = await self.store.chunks_of(document.id)
        return self._chunks[document.id]

    def forget(self, document_id: str) -> None:
        self._chunks.pop(document_id, None)


@attrs.frozen
class DenseIndex:
    chunks: list[Chunk]
    matrix: Matrix


class DenseRetriever:
    """Cosine similarity: one float32 matrix per document set, one matrix-vector product a query."""

    name = "dense"

    def __init__(self, chunks: ChunkCache, embedder: Embedder) -> None:
        self._chunks = chunks
        self._embedder = embedder
        self._sets: Lru[tuple[tuple[str, str], ...], DenseIndex] = Lru(SET_CACHE_SIZE)

    async def search(self, query: str, documents: Sequence[Document], k: int) -> list[ScoredChunk]:
        index = await self._index(documents)
        if not index.chunks:
            return []
        query_vector = np.frombuffer((await self._embedder.embed([query]))[0], dtype=np.float32)
        scores = index.matrix @ _normalised(query_vector)
        best = top_indices(scores, k)
        return [ScoredChunk(index.chunks[i], float(scores[i]), ((self.name, r),)) for r, i in enumerate(best, 1)]

    async def _index(self, documents: Sequence[Document]) -> DenseIndex:
        key = set_key(documents)
        index = self._sets.get(key)
        if index is None:
            chunks = [chunk for document in documents for chunk in await self._chunks.of(document)]
            matrix = await asyncio.to_thread(_stack, chunks)
            index = DenseIndex(chunks, matrix)
            self._sets.put(key, index)
        return index

    def forget(self, document_id: str) -> None:
        self._chunks.forget(document_id)
        self._sets.drop_where(lambda key: any(entry[0] == document_id for entry in key))


def _stack(chunks: Sequence[Chunk]) -> Matrix:
    if not chunks:
        return np.zeros((0, 0), dtype=np.float32)
    matrix = np.stack([np.frombuffer(chunk.vector, dtype=np.float32) for chunk in chunks])
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    normalised: Matrix = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
    return normalised


def _normalised(vector: Matrix) -> Matrix:
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "he",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "were",
        "will",
        "with",
        "which",
        "who",
        "what",
        "when",
        "where",
        "how",
        "than",
        "then",
        "there",
        "these",
        "those",
        "they",
        "their",
        "them",
        "we",
        "you",
        "your",
        "not",
        "no",
        "can",
        "could",
        "would",
        "should",
        "may",
        "might",
        "do",
        "does",
        "did",
        "been",
        "being",
        "into",
        "over",
        "also",
        "such",
    ]
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _stemmer() -> Callable[[str], str]:
    try:
        import snowballstemmer
    except ImportError:
        return lambda word: word
    stemmer = snowballstemmer.stemmer("english")
    return stemmer.stemWord  # type: ignore[no-any-return]


@attrs.frozen
class Analyzer:
    """Lower-case words, English stop words dropped, Snowball-stemmed."""

    stem: Callable[[str], str] = attrs.field(factory=_stemmer)

    def terms(self, text: str) -> list[str]:
        return [self.stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


@attrs.frozen
class Bm25Index:
    chunks: list[Chunk]
    postings: dict[str, tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]]
    lengths: npt.NDArray[np.float32]

    @classmethod
    def build(cls, chunks: list[Chunk], analyzer: Analyzer) -> Bm25Index:
        rows: dict[str, tuple[list[int], list[float]]] = {}
        lengths = np.zeros(len(chunks), dtype=np.float32)
        for position, chunk in enumerate(chunks):
            terms = analyzer.terms(chunk.text)
            lengths[position] = len(terms)
            for term, count in Counter(terms).items():
                ids, tfs = rows.setdefault(term, ([], []))
                ids.append(position)
                tfs.append(count)
        postings = {
            term: (np.array(ids, dtype=np.int32), np.array(tfs, dtype=np.float32)) for term, (ids, tfs) in rows.items()
        }
        return cls(chunks, postings, lengths)

    def scores(self, terms: Sequence[str], k1: float, b: float) -> npt.NDArray[np.float32]:
        total = len(self.chunks)
        average = float(self.lengths.mean()) if total else 0.0
        norm = k1 * (1 - b + b * self.lengths / max(average, 1e-9))
        scores = np.zeros(total, dtype=np.float32)
        for term in terms:
            if term not in self.postings:
                continue
            ids, tfs = self.postings[term]
            idf = math.log(1 + (total - len(ids) + 0.5) / (len(ids) + 0.5))
            scores[ids] += idf * tfs * (k1 + 1) / (tfs + norm[ids])
        return scores


class Bm25Retriever:
    """Okapi BM25 over the chunks of a document set (statistics over that set)."""

    name = "bm25"

    def __init__(self, chunks: ChunkCache, k1: float = 1.2, b: float = 0.75) -> None:
        self._chunks = chunks
        self._k1, self._b = k1, b
        self._analyzer = Analyzer()
        self._sets: Lru[tuple[tuple[str, str], ...], Bm25Index] = Lru(SET_CACHE_SIZE)

    async def search(self, query: str, documents: Sequence[Document], k: int) -> list[ScoredChunk]:
        index = await self._index(documents)
        scores = index.scores(self._analyzer.terms(query), self._k1, self._b)
        best = [i for i in top_indices(scores, k) if scores[i] > 0]
        return [ScoredChunk(index.chunks[i], float(scores[i]), ((self.name, r),)) for r, i in enumerate(best, 1)]

    async def _index(self, documents: Sequence[Document]) -> Bm25Index:
        key = set_key(documents)
        index = self._sets.get(key)
        if index is None:
            chunks = [chunk for document in documents for chunk in await self._chunks.of(document)]
            index = await asyncio.to_thread(Bm25Index.build, chunks, self._analyzer)
            self._sets.put(key, index)
        return index

    def forget(self, document_id: str) -> None:
        self._chunks.forget(document_id)
        self._sets.drop_where(lambda key: any(entry[0] == document_id for entry in key))


class HybridRetriever:
    """Dense and BM25, fused by reciprocal rank over the top ``depth`` of each."""

    name = "hybrid"

    def __init__(
        self,
        parts: Sequence[Retriever],
        depth: int = 100,
        rrf_k: int = 60,
        weights: dict[str, float] | None = None,
    ) -> None:
        self._parts = tuple(parts)
        self._depth, self._rrf_k = depth, rrf_k
        self._weights = weights

    async def search(self, query: str, documents: Sequence[Document], k: int) -> list[ScoredChunk]:
        depth = max(k, self._depth)
        rankings = {part.name: await part.search(query, documents, depth) for part in self._parts}
        return reciprocal_rank_fusion(rankings, k, self._rrf_k, self._weights)

    def forget(self, document_id: str) -> None:
        for part in self._parts:
            part.forget(document_id)


def build_dense(context: RetrieverContext, chunks: ChunkCache | None = None) -> DenseRetriever:
    return DenseRetriever(chunks or ChunkCache(context.store), context.embedder)


def build_bm25(context: RetrieverContext, chunks: ChunkCache | None = None) -> Bm25Retriever:
    config = context.config
    return Bm25Retriever(
        chunks or ChunkCache(context.store),
        k1=float(config.get("bm25_k1", 1.2)),
        b=float(config.get("bm25_b", 0.75)),
    )


def build_hybrid(context: RetrieverContext) -> HybridRetriever:
    # Both halves share one chunk cache, so each document's chunks are held once.
    chunks = ChunkCache(context.store)
    config = context.config
    weights = {"dense": float(config.get("hybrid_dense_weight", 1.0)), "bm25": 1.0}
    return HybridRetriever(
        (build_dense(context, chunks), build_bm25(context, chunks)),
        depth=int(config.get("hybrid_depth", 100)),
        rrf_k=int(config.get("hybrid_rrf_k", 20)),
        weights=weights,
    )


@hookimpl
def register_retrievers(register: RegisterRetriever) -> None:
    register("dense", build_dense)
    register("bm25", build_bm25)
    register("hybrid", build_hybrid)
