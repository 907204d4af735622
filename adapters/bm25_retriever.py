"""The ``bm25`` retriever: Okapi BM25 over Snowball-stemmed terms, one index per document set."""

from __future__ import annotations

import asyncio
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence

import attrs
import numpy as np
import numpy.typing as npt

from botgpt.adapters.chunk_cache import SET_CACHE_SIZE, ChunkCache, Lru, set_key
from botgpt.adapters.dense_retriever import top_indices
from botgpt.domain.model import Chunk, Document, ScoredChunk
from botgpt.domain.text import STOPWORDS

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
