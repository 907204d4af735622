"""Dense retrieval latency of the ``memory`` index: top-10 over 100k and 1M chunks of dimension 384.

The index is botgpt's dense retriever over random unit vectors held by the in-process
``memory`` chunk index (the embedded default, LanceDB, has its own benchmark:
``knowledge_scale.py``). Query embedding is
excluded: a stand-in returns a fixed vector, so only retrieval is measured. The comparison is
the seed's method: a Python loop computing one cosine per chunk with numpy.
Targets: p50 <= 15 ms (100k) and <= 150 ms (1M) on 2 cores.

    python bench/retrieval_latency.py [--sizes 100000,1000000] [--queries 200]
"""

from __future__ import annotations

import argparse
import array
import asyncio
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _support import median, percentile

from botgpt.adapters.index_retrievers import DenseRetriever
from botgpt.adapters.memory_index import MemoryChunkIndex
from botgpt.domain.model import Chunk, Document, DocumentStatus, SearchScope, Vector

DIMENSION = 384
DOCUMENTS = 10
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class FixedQueryEmbedder:
    """Returns the next prepared query vector (benchmark only)."""

    name, dimension = "bench", DIMENSION

    def __init__(self, queries: np.ndarray) -> None:
        self._queries, self._next = queries, 0

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        vector = self._queries[self._next % len(self._queries)]
        self._next += 1
        return [array.array("f", vector.tobytes())]


async def corpus(size: int, rng: np.random.Generator) -> tuple[MemoryChunkIndex, list[Document], np.ndarray]:
    store = MemoryChunkIndex()
    vectors = rng.standard_normal((size, DIMENSION), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    documents = []
    per_document = size // DOCUMENTS
    for d in range(DOCUMENTS):
        document = Document(
            id=f"{d:032x}",
            user_id="bench",
            filename=f"d{d}.txt",
            content_type="text/plain",
            size_bytes=0,
            sha256=str(d),
            status=DocumentStatus.READY,
            created_at=EPOCH,
            updated_at=EPOCH,
            embedder="bench",
        )
        rows = range(d * per_document, (d + 1) * per_document)
        chunks = [Chunk(f"{i:032x}", document.id, i, 0, 0, "", array.array("f", vectors[i].tobytes())) for i in rows]
        await store.publish(document, chunks)
        documents.append(document)
    return store, documents, vectors


def seed_style(query: np.ndarray, vectors: np.ndarray, k: int) -> list[int]:
    scores = []
    for index, vector in enumerate(vectors):
        cosine = float(np.dot(query, vector) / (np.linalg.norm(query) * np.linalg.norm(vector)))
        scores.append((cosine, index))
    return [index for _, index in sorted(scores, reverse=True)[:k]]


async def measure(size: int, queries: int, loop_queries: int) -> None:
    rng = np.random.default_rng(size)
    store, documents, vectors = await corpus(size, rng)
    query_vectors = rng.standard_normal((queries + 1, DIMENSION), dtype=np.float32)
    retriever = DenseRetriever(store, FixedQueryEmbedder(query_vectors))
    scope = SearchScope("bench", "bench", frozenset(d.id for d in documents))
    await retriever.search("warm-up", scope, 10)
    timings = []
    for _ in range(queries):
        started = time.perf_counter()
        hits = await retriever.search("q", scope, 10)
        timings.append((time.perf_counter() - started) * 1000)
    assert len(hits) == 10
    loop = []
    for q in range(loop_queries):
        started = time.perf_counter()
        seed_style(query_vectors[q], vectors, 10)
        loop.append((time.perf_counter() - started) * 1000)
    p50, p99 = percentile(timings, 0.5), percentile(timings, 0.99)
    print(
        f"{size:>9,} chunks: p50={p50:.1f} ms p99={p99:.1f} ms over {queries} queries; "
        f"per-chunk Python loop median {median(loop):.0f} ms ({median(loop) / p50:.0f}x slower)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--loop-queries", type=int, default=3)
    args = parser.parse_args()
    for size in map(int, args.sizes.split(",")):
        asyncio.run(measure(size, args.queries, args.loop_queries))


if __name__ == "__main__":
    main()
