"""Knowledge-base scale: search latency, ANN recall, index write rate and RSS at 100k and 1M chunks.

A seeded synthetic corpus (d=384): vectors drawn around 2,000 centroids, so that nearest
neighbours mean something, and text of 40 words drawn (Zipf-like) from a seeded 5,000-word
list. It spans ``chunks / 100`` documents of ``--users`` users, each user with 5 collections
and a ``year`` attribute on every document. Documents go through the store's ingestion write
path (SQLite ``add_chunks``, then the chunk index's ``publish``); the embedder is skipped.

Searches go through ``RetrievalService`` as the server runs them (scope resolution, the
configured retrievers, the hits' documents read back), with a stand-in embedder that returns a
prepared query vector. Each is timed over ``--queries`` queries spread over the users:

- dense, lexical and hybrid over one user's whole corpus, within a collection, and within a
  collection with an attribute filter (p50, p99);
- with ``--single-tenant``, one user owns every chunk: dense top-10 over the whole corpus,
  which is where the vector index (IVF-HNSW) serves instead of an exact scan;
- ANN recall@10 against exact search, on the searches the vector index served;
- the index write rate in chunks/s, against MiniLM's 25 to 90 chunks/s;
- this process's RSS after opening the index and after queries touched every user.

    python bench/knowledge_scale.py --chunks 100000
    python bench/knowledge_scale.py --chunks 1000000 --single-tenant
"""

from __future__ import annotations

import argparse
import array
import asyncio
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _support import percentile

from botgpt.adapters.lance_index import LanceChunkIndex, LanceTuning
from botgpt.adapters.sqlite_collections import SqliteCollectionStore
from botgpt.adapters.sqlite_db import open_sqlite_database
from botgpt.adapters.sqlite_documents import SqliteDocumentStore
from botgpt.domain.chunking import chunk_id
from botgpt.domain.model import Chunk, Collection, Document, DocumentStatus, ScopeRequest, Vector
from botgpt.domain.retrieval import RetrievalService
from botgpt.entrypoints.resources import retriever as build_retriever
from botgpt.entrypoints.settings import Settings
from botgpt.plugins.manager import plugin_manager

DIMENSION = 384
CHUNKS_PER_DOCUMENT = 100
COLLECTIONS_PER_USER = 5
CENTROIDS = 2000
WORDS = 5000
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class PreparedQueryEmbedder:
    """Returns the vector prepared for each query text (benchmark only)."""

    name, dimension = "bench", DIMENSION

    def __init__(self) -> None:
        self.vectors: dict[str, Vector] = {}

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        return [self.vectors[text] for text in texts]


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


class Corpus:
    """The seeded generator of vectors and text."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.centroids = self.rng.standard_normal((CENTROIDS, DIMENSION), dtype=np.float32)
        self.words = np.array([f"w{n:04d}" for n in range(WORDS)])
        weights = 1 / np.arange(1, WORDS + 1)
        self.word_weights = weights / weights.sum()

    def vectors(self, count: int) -> np.ndarray:
        near = self.centroids[self.rng.integers(0, CENTROIDS, count)]
        vectors = near + 0.6 * self.rng.standard_normal((count, DIMENSION), dtype=np.float32)
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)

    def texts(self, count: int, length: int = 40) -> list[str]:
        picks = self.rng.choice(WORDS, size=(count, length), p=self.word_weights)
        return [" ".join(self.words[row]) for row in picks]


def document(number: int, users: int) -> Document:
    return Document(
        id=f"{number:032x}",
        user_id=f"user{number % users:03d}",
        filename=f"doc{number}.txt",
        content_type="text/plain",
        size_bytes=0,
        sha256=f"{number:064x}",
        status=DocumentStatus.PROCESSING,
        created_at=EPOCH,
        updated_at=EPOCH,
        embedder="bench",
        attributes={"year": 2020 + number % 6},
    )


def collection_id(user: int, number: int) -> str:
    return f"c{user:015x}{number:016x}"


async def write_corpus(args: argparse.Namespace, db: Any, index: LanceChunkIndex, corpus: Corpus) -> float:
    store, collections = SqliteDocumentStore(db), SqliteCollectionStore(db)
    for user in range(args.users):
        for number in range(COLLECTIONS_PER_USER):
            name = f"collection {number}"
            await collections.add_collection(
                Collection(collection_id(user, number), f"user{user:03d}", name, EPOCH, EPOCH)
            )
    index_seconds, started = 0.0, time.perf_counter()
    for number in range(args.chunks // CHUNKS_PER_DOCUMENT):
        doc = document(number, args.users)
        vectors, texts = corpus.vectors(CHUNKS_PER_DOCUMENT), corpus.texts(CHUNKS_PER_DOCUMENT)
        chunks = [
            Chunk(chunk_id(doc.id, n), doc.id, n, 0, len(texts[n]), texts[n], array.array("f", vectors[n].tobytes()))
            for n in range(CHUNKS_PER_DOCUMENT)
        ]
        await store.add_document(doc)
        await store.add_chunks(doc, chunks, "bench")
        timer = time.perf_counter()
        await index.append(doc, chunks)  # as the ingestion worker does on a first attempt
        index_seconds += time.perf_counter() - timer
        await store.update_document(attrs.evolve(doc, status=DocumentStatus.READY))
        user, slot = number % args.users, (number // args.users) % COLLECTIONS_PER_USER
        await collections.add_members(collection_id(user, slot), [doc.id])
        if number % 1000 == 999:
            rate = (number + 1) * CHUNKS_PER_DOCUMENT / (time.perf_counter() - started)
            print(f"  written {(number + 1) * CHUNKS_PER_DOCUMENT:,} chunks ({rate:,.0f}/s overall)", file=sys.stderr)
    timer = time.perf_counter()
    await index.optimize()
    optimize_seconds = time.perf_counter() - timer
    print(f"  final optimize (compaction, index update, ANN build if due): {optimize_seconds:.1f} s", file=sys.stderr)
    return args.chunks / index_seconds


def prepared_queries(corpus: Corpus, embedder: PreparedQueryEmbedder, users: Sequence[str]) -> list[tuple[str, str]]:
    """(user, text) pairs, each text's vector prepared in the stand-in embedder."""
    queries = []
    for number, user in enumerate(users):
        text = f"{corpus.texts(1, 3)[0]} q{number}"
        embedder.vectors[text] = array.array("f", corpus.vectors(1)[0].tobytes())
        queries.append((user, text))
    return queries


async def timed(
    retrieval: RetrievalService, queries: Sequence[tuple[str, str]], scope: Any
) -> tuple[list[float], list[list[str]]]:
    timings, results = [], []
    for number, (user, text) in enumerate(queries):
        started = time.perf_counter()
        found = await retrieval.search_with_documents(user, text, scope(number, user), 10)
        timings.append((time.perf_counter() - started) * 1000)
        results.append([hit.chunk.id for hit in found.hits])
    return timings, results


def report(label: str, timings: list[float]) -> None:
    p50, p99 = percentile(timings, 0.5), percentile(timings, 0.99)
    print(f"{label:<52} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms", flush=True)


async def measure(args: argparse.Namespace) -> None:
    corpus = Corpus(seed=args.chunks)
    settings = Settings.load()
    tuning = LanceTuning(flat_limit=settings.index_flat_limit, ann_min_rows=settings.index_ann_min_rows)
    with tempfile.TemporaryDirectory(dir=args.dir) as data_dir:
        async with open_sqlite_database(Path(data_dir) / "db.sqlite3") as db:
            index = LanceChunkIndex(Path(data_dir) / "index", tuning)
            await index.load()
            print(f"{args.chunks:,} chunks, {args.chunks // CHUNKS_PER_DOCUMENT:,} documents, {args.users} users")
            rate = await write_corpus(args, db, index, corpus)
            print(f"index write rate: {rate:,.0f} chunks/s ({rate / 90:.0f}x MiniLM's 90 chunks/s)", flush=True)
            await index.close()
            index = LanceChunkIndex(Path(data_dir) / "index", tuning)  # as a worker starts: nothing cached
            await index.load()
            before = rss_mb()
            await search_figures(args, db, index, corpus)
            print(
                f"RSS: {before:.0f} MB after opening, {rss_mb():.0f} MB after the queries (+{rss_mb() - before:.0f} MB)"
            )
            await index.close()


async def search_figures(args: argparse.Namespace, db: Any, index: LanceChunkIndex, corpus: Corpus) -> None:
    embedder = PreparedQueryEmbedder()
    store, collections = SqliteDocumentStore(db), SqliteCollectionStore(db)
    config = Settings.load().as_dict()
    queries = prepared_queries(corpus, embedder, [f"user{n % args.users:03d}" for n in range(args.queries)])
    recent = {"type": "gte", "key": "year", "value": 2024}

    def collection_of(number: int, user: str) -> ScopeRequest:
        return ScopeRequest(collection_ids=(collection_id(int(user[4:]), number % COLLECTIONS_PER_USER),))

    scopes = {
        "one user's whole corpus": lambda number, user: ScopeRequest(),
        "within a collection": collection_of,
        "within a collection, filter year >= 2024": lambda n, u: attrs.evolve(collection_of(n, u), filters=recent),
    }
    for name in ("dense", "bm25", "hybrid"):
        retriever = build_retriever(plugin_manager(), {**config, "retriever": name}, store, index, embedder)
        retrieval = RetrievalService(store, retriever, embedder, collections=collections)  # type: ignore[arg-type]
        for label, scope in scopes.items():
            timings, _ = await timed(retrieval, queries, scope)
            report(f"{name}, {label}", timings)
    per_user = args.chunks // args.users
    limit = Settings.load().index_flat_limit
    plan = "exact scans" if per_user <= limit else "the vector index over the user's own table"
    print(f"(each user holds {per_user:,} chunks; index_flat_limit is {limit:,}: {plan})")
    if per_user > Settings.load().index_flat_limit:
        await ann_recall(db, index, embedder, queries)


async def ann_recall(
    db: Any, index: LanceChunkIndex, embedder: PreparedQueryEmbedder, queries: Sequence[tuple[str, str]]
) -> None:
    """The vector index against an exact scan of the same files, on the same queries."""
    store = SqliteDocumentStore(db)
    config = Settings.load().as_dict()
    exact_index = LanceChunkIndex(index.path, LanceTuning(flat_limit=10**12))
    await exact_index.load()
    results = {}
    for label, engine in (("through the vector index", index), ("exact scan", exact_index)):
        retriever = build_retriever(plugin_manager(), {**config, "retriever": "dense"}, store, engine, embedder)
        retrieval = RetrievalService(store, retriever, embedder)  # type: ignore[arg-type]
        timings, results[label] = await timed(retrieval, queries, lambda n, u: ScopeRequest())
        report(f"dense, whole corpus, {label}", timings)
    await exact_index.close()
    approximate, truth = results["through the vector index"], results["exact scan"]
    recall = np.mean([len(set(a) & set(t)) / max(len(t), 1) for a, t in zip(approximate, truth, strict=True)])
    print(f"ANN recall@10 against exact search: {recall:.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--single-tenant", action="store_true", help="one user owns every chunk")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--dir", default=None, help="where the temporary data directory goes")
    args = parser.parse_args()
    if args.single_tenant:
        args.users = 1
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()
