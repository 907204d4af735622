"""Retrieval quality on a BEIR-layout dataset, with botgpt's own chunker, embedder and retrievers.

Each corpus document (title + " " + text) becomes one botgpt document, chunked by the
configured chunker, embedded by the configured embedder and published into the configured
chunk index (``BOTGPT_INDEX``: LanceDB on disk by default, in a temporary directory), which
the retrievers search across all the user's documents, as the server does. A document's score is the best
score among its chunks; documents are ranked, as in BEIR/MTEB. nDCG@10 comes from a search
as deep as a RAG turn's (100 chunks), Recall@100 from one ``--depth`` deep. Prints one line
per retriever:

    hybrid nDCG@10=0.xxxx Recall@100=0.xxxx

Embeddings are cached outside the source tree, in ``$BOTGPT_BENCH_CACHE`` or
``~/.cache/botgpt-bench`` (``$XDG_CACHE_HOME`` is honoured), so re-runs take seconds. Settings
come from ``BOTGPT_*`` and ``$BOTGPT_CONFIG`` as for the server, then ``--set``; the run
prints the ones that differ from the defaults, so every result says what produced it.

    python bench/retrieval_eval.py --data ../shared/data/scifact --split test
    python bench/retrieval_eval.py --data ../shared/data/scifact --split train --set hybrid_rrf_k=20
"""

from __future__ import annotations

import argparse
import array
import asyncio
import hashlib
import json
import math
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from botgpt.adapters.memory_documents import MemoryDocumentStore
from botgpt.domain.chunking import chunk_id, stream_chunks
from botgpt.domain.model import Chunk, Document, DocumentStatus, SearchScope, Vector
from botgpt.entrypoints.resources import chunk_index
from botgpt.entrypoints.resources import embedder as embedder_resource
from botgpt.entrypoints.resources import retriever as build_retriever
from botgpt.entrypoints.settings import Settings
from botgpt.plugins.hookspecs import PluginContext
from botgpt.plugins.manager import chunker_factories, pick, plugin_manager
from botgpt.ports.ai import Embedder, Retriever
from botgpt.ports.index import ChunkIndex


def cache_dir() -> Path:
    """Where embeddings are cached: never inside the source tree."""
    if os.environ.get("BOTGPT_BENCH_CACHE"):
        return Path(os.environ["BOTGPT_BENCH_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "botgpt-bench"


EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
QUERY_KEY = "\x00query\x00"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with path.open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            query_id, corpus_id, score = line.rstrip("\n").split("\t")
            qrels[query_id][corpus_id] = int(score)
    return qrels


class CachedEmbedder:
    """The configured embedder behind a disk cache keyed by text (benchmark only)."""

    def __init__(self, inner: Embedder, cache: dict[str, Vector]) -> None:
        self._inner, self._cache = inner, cache
        self.name, self.dimension = inner.name, inner.dimension

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        return await self._cached(texts, "", self._inner.embed)

    async def embed_queries(self, texts: Sequence[str]) -> list[Vector]:
        # Kept apart from passages: embedders such as E5 encode the same text differently as a query.
        return await self._cached(texts, QUERY_KEY, getattr(self._inner, "embed_queries", self._inner.embed))

    async def _cached(self, texts: Sequence[str], prefix: str, embed: Any) -> list[Vector]:
        missing = [t for t in dict.fromkeys(texts) if prefix + t not in self._cache]
        for start in range(0, len(missing), 256):
            batch = missing[start : start + 256]
            self._cache.update(zip([prefix + t for t in batch], await embed(batch), strict=True))
        return [self._cache[prefix + t] for t in texts]


def load_cache(path: Path) -> dict[str, Vector]:
    if not path.exists():
        return {}
    data = np.load(path, allow_pickle=False)
    texts = json.loads(path.with_suffix(".json").read_text())
    return {text: array.array("f", row.tobytes()) for text, row in zip(texts, data, strict=True)}


def save_cache(path: Path, cache: dict[str, Vector]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    texts = list(cache)
    np.save(path, np.stack([np.frombuffer(cache[t], dtype=np.float32) for t in texts]))
    path.with_suffix(".json").write_text(json.dumps(texts))


def reduced_corpus(
    corpus: list[dict[str, Any]], qrels: dict[str, dict[str, int]], distractors: int
) -> list[dict[str, Any]]:
    """Every document a query needs, plus the first ``distractors`` others: a smaller corpus on
    which slow embedders can be compared with each other (not with published full-corpus figures)."""
    needed = {doc for relevant in qrels.values() for doc in relevant}
    others = [row for row in corpus if row["_id"] not in needed][:distractors]
    return [row for row in corpus if row["_id"] in needed] + others


# A RAG turn asks the retriever for at most max(k, rerank_depth) chunks, well under 100, so the
# hybrid fuses the top ``hybrid_depth`` (100) of each part. nDCG@10 is read from a search that
# deep, as a turn runs it; a deeper search would fuse deeper rankings than any turn does.
FIRST_STAGE = 100


async def ranked_documents(retriever: Retriever, query: str, scope: SearchScope, k: int) -> list[str]:
    """Documents in the order of their best chunk among the retriever's top ``k`` chunks."""
    return list(dict.fromkeys(hit.chunk.document_id for hit in await retriever.search(query, scope, k)))


def ndcg_at_10(ranked: list[str], relevant: dict[str, int]) -> float:
    gains = sum(relevant.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranked[:10]))
    ideal = sorted(relevant.values(), reverse=True)[:10]
    best = sum(g / math.log2(rank + 2) for rank, g in enumerate(ideal))
    return gains / best if best else 0.0


def recall_at_100(ranked: list[str], relevant: dict[str, int]) -> float:
    wanted = {doc for doc, score in relevant.items() if score > 0}
    return len(wanted & set(ranked[:100])) / len(wanted) if wanted else 0.0


async def build_corpus(
    settings: Settings, corpus: list[dict[str, Any]], embedder: Embedder, index: ChunkIndex
) -> MemoryDocumentStore:
    store = MemoryDocumentStore()
    chunker = pick(chunker_factories(plugin_manager()), settings.chunker, "chunker")(PluginContext(settings.as_dict()))
    started = time.perf_counter()
    spans = {
        row["_id"]: list(stream_chunks([(row.get("title", "") + " " + row["text"]).strip()], chunker)) for row in corpus
    }
    texts = [span.text for document_spans in spans.values() for span in document_spans]
    vectors = iter(await embedder.embed(texts))
    for row in corpus:
        document = Document(
            id=row["_id"],
            user_id="eval",
            filename=row.get("title", ""),
            content_type="text/plain",
            size_bytes=0,
            sha256=row["_id"],
            status=DocumentStatus.READY,
            created_at=EPOCH,
            updated_at=EPOCH,
            embedder=embedder.name,
        )
        await store.add_document(document)
        chunks = [
            Chunk(chunk_id(document.id, n), document.id, n, s.start, s.end, s.text, next(vectors))
            for n, s in enumerate(spans[document.id])
        ]
        await store.add_chunks(document, chunks, embedder.name)
        await index.publish(document, chunks)
    elapsed = time.perf_counter() - started
    print(f"corpus: {len(corpus)} documents, {len(texts)} chunks ({elapsed:.0f}s)", file=sys.stderr)
    return store


async def evaluate(args: argparse.Namespace) -> None:
    overrides = dict(item.split("=", 1) for item in args.set)
    settings = Settings.load(chunker=args.chunker, **overrides)  # None keeps the default
    defaults = Settings()
    changed = {k: v for k, v in settings.as_dict().items() if v != getattr(defaults, k) and "key" not in k}
    print(f"settings that differ from the defaults: {changed or 'none'}", file=sys.stderr)
    corpus = read_jsonl(args.data / "corpus.jsonl")
    queries = {row["_id"]: row["text"] for row in read_jsonl(args.data / "queries.jsonl")}
    qrels = read_qrels(args.data / "qrels" / f"{args.split}.tsv")
    if args.limit:
        qrels = dict(list(qrels.items())[: args.limit])
    if args.distractors is not None:
        corpus = reduced_corpus(corpus, qrels, args.distractors)
    config = settings.as_dict()
    key = hashlib.sha256(
        json.dumps(
            [
                str(args.data.resolve()),
                settings.chunker,
                settings.chunk_max_chars,
                settings.chunk_tokens,
                settings.chunk_overlap_tokens,
                settings.embedder,
                settings.embedder_model_path,
            ]
        ).encode()
    ).hexdigest()[:12]
    cache_path = cache_dir() / f"{args.data.name}-{key}.npy"
    cache = load_cache(cache_path)
    async for inner in embedder_resource(plugin_manager(), config):
        embedder = CachedEmbedder(inner, cache)
        with tempfile.TemporaryDirectory() as data_dir:
            async for index in chunk_index(Settings.load(**{**overrides, "data_dir": data_dir})):
                await run_queries(args, config, corpus, queries, qrels, embedder, index)
        save_cache(cache_path, cache)


async def run_queries(
    args: argparse.Namespace,
    config: dict[str, Any],
    corpus: list[dict[str, Any]],
    queries: dict[str, str],
    qrels: dict[str, dict[str, int]],
    embedder: CachedEmbedder,
    index: ChunkIndex,
) -> None:
    """Index the corpus, then print each retriever's figures."""
    settings = Settings.load(**{k: v for k, v in config.items() if v is not None})
    store = await build_corpus(settings, corpus, embedder, index)
    await embedder.embed_queries([queries[q] for q in qrels])
    optimize = getattr(index, "optimize", None)
    if optimize is not None:
        await optimize()
    print(f"index: {index.name}", file=sys.stderr)
    scope = SearchScope("eval", embedder.name)
    for name in args.retrievers.split(","):
        retriever = build_retriever(plugin_manager(), {**config, "retriever": name}, store, index, embedder)
        ndcg, recall = [], []
        for query_id, relevant in qrels.items():
            ranked = await ranked_documents(retriever, queries[query_id], scope, FIRST_STAGE)
            ndcg.append(ndcg_at_10(ranked, relevant))
            deep = await ranked_documents(retriever, queries[query_id], scope, args.depth)
            recall.append(recall_at_100(deep, relevant))
        print(f"{name} nDCG@10={np.mean(ndcg):.4f} Recall@100={np.mean(recall):.4f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--retrievers", default="dense,bm25,hybrid")
    parser.add_argument("--chunker", default=None, help="default: the configured chunker")
    parser.add_argument("--depth", type=int, default=1000, help="chunks retrieved per query for Recall@100")
    parser.add_argument("--limit", type=int, default=0, help="evaluate only the first N queries")
    parser.add_argument(
        "--distractors", type=int, default=None, help="corpus: the relevant documents plus this many others"
    )
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a setting")
    asyncio.run(evaluate(parser.parse_args()))


if __name__ == "__main__":
    main()
