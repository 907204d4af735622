"""Ingestion throughput against the embedder's raw rate, and peak memory on a 100 MB file.

1. Raw rate: the local embedder (all-MiniLM-L6-v2) embeds the chunk texts directly.
2. End to end: the same text uploaded and ingested (extract, chunk, embed, store in SQLite)
   by botgpt's worker. Target: >= 90% of the raw rate.
3. Memory: peak RSS of a process ingesting a 10 MB and a 100 MB text file with a stand-in
   embedder (the real one would need over an hour for 100 MB). Memory must not grow with
   the file.

    python bench/ingest.py [--chunks 600] [--runs 3] [--big-mb 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _support import median

from botgpt.adapters.file_blobs import FileBlobStorage
from botgpt.adapters.lance_index import LanceChunkIndex
from botgpt.adapters.sqlite_db import open_sqlite_database
from botgpt.adapters.sqlite_documents import SqliteDocumentStore
from botgpt.domain.chunking import stream_chunks
from botgpt.domain.clock import utc_now
from botgpt.domain.documents import DocumentService
from botgpt.domain.ingestion import IngestionWorker
from botgpt.domain.model import Vector
from botgpt.entrypoints.resources import embedder as embedder_resource
from botgpt.entrypoints.settings import Settings
from botgpt.plugins.builtin.chunkers import SentenceChunker
from botgpt.plugins.manager import extractors_by_extension, plugin_manager
from botgpt.ports.ai import Embedder

WORDS = [
    "lighthouse",
    "keeper",
    "ship",
    "harbour",
    "lens",
    "light",
    "night",
    "storm",
    "rock",
    "coast",
    "tower",
    "signal",
    "fog",
    "horn",
    "beacon",
    "island",
    "sailor",
    "wave",
    "tide",
    "current",
    "chart",
    "compass",
    "north",
    "south",
    "east",
    "west",
    "iron",
    "stone",
    "lamp",
    "oil",
    "wick",
]


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 18))).capitalize() + ". "


def write_text(path: Path, size_bytes: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        written = 0
        while written < size_bytes:
            paragraph = "".join(sentence(rng) for _ in range(rng.randint(3, 8))) + "\n\n"
            handle.write(paragraph)
            written += len(paragraph)


async def file_blocks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(1 << 16):
            yield block


class StandInEmbedder:
    """Instant, constant vectors: isolates the pipeline's own memory (benchmark only)."""

    name, dimension = "stand-in", 384

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        import array

        return [array.array("f", [0.1] * self.dimension) for _ in texts]


async def ingest(path: Path, data_dir: Path, embedder: Embedder) -> tuple[int, float]:
    async with open_sqlite_database(data_dir / "db.sqlite3") as database:
        store, blobs = SqliteDocumentStore(database), FileBlobStorage(data_dir / "blobs")
        extractors = extractors_by_extension(plugin_manager())
        index = LanceChunkIndex(data_dir / "index")  # the server's default, on disk
        await index.load()
        service = DocumentService(store, blobs, extractors, index, utc_now, max_upload_bytes=1 << 40)
        document = (await service.upload("bench", path.name, file_blocks(path))).document
        worker = IngestionWorker(store, index, blobs, extractors, SentenceChunker(), embedder, utc_now)
        started = time.perf_counter()
        await worker.run_once()
        elapsed = time.perf_counter() - started
        await index.close()
        done = await store.get_document(None, document.id)
        assert done is not None and done.status.value == "ready", done
        return done.chunks_total, elapsed


async def throughput(chunks: int, runs: int) -> None:
    settings = Settings.load(environ={})
    async for embedder in embedder_resource(plugin_manager(), settings.as_dict()):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "corpus.txt"
            write_text(path, chunks * 470)
            texts = [s.text for s in stream_chunks([path.read_text()], SentenceChunker())]
            await embedder.embed(texts[:64])  # warm-up
            raw, end_to_end = [], []
            for run in range(runs):
                started = time.perf_counter()
                for start in range(0, len(texts), 32):
                    await embedder.embed(texts[start : start + 32])
                raw.append(len(texts) / (time.perf_counter() - started))
                count, elapsed = await ingest(path, Path(tmp) / f"run{run}", embedder)
                end_to_end.append(count / elapsed)
                print(f"run {run + 1}: raw {raw[-1]:.1f} chunks/s, end-to-end {end_to_end[-1]:.1f} chunks/s")
    ratio = median(end_to_end) / median(raw)
    print(
        f"ingestion ({len(texts)} chunks): embedder raw median {median(raw):.1f} chunks/s, "
        f"end-to-end median {median(end_to_end):.1f} chunks/s = {ratio:.0%} of raw (target >= 90%)"
    )


def peak_rss_kb() -> int:
    """This process's own peak RSS. (getrusage's ru_maxrss survives fork and exec, so a
    child would report its parent's peak.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_rss_child(size_mb: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"big-{size_mb}mb.txt"
        write_text(path, size_mb << 20)
        before = peak_rss_kb()
        count, elapsed = asyncio.run(ingest(path, Path(tmp) / "data", StandInEmbedder()))
        peak = peak_rss_kb()
        print(json.dumps({"mb": size_mb, "chunks": count, "seconds": elapsed, "before_kb": before, "peak_kb": peak}))


def memory(big_mb: int) -> None:
    results = []
    for size in (10, big_mb):
        output = subprocess.run(
            [sys.executable, __file__, "--rss-child", str(size)], capture_output=True, text=True, check=True
        ).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
        r = results[-1]
        print(
            f"{r['mb']} MB file: {r['chunks']} chunks in {r['seconds']:.0f}s, "
            f"peak RSS {r['peak_kb'] / 1024:.0f} MB (before ingesting: {r['before_kb'] / 1024:.0f} MB)"
        )
    growth = (results[1]["peak_kb"] - results[0]["peak_kb"]) / 1024
    print(f"peak RSS changes by {growth:+.0f} MB from a 10 MB to a {big_mb} MB file")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--big-mb", type=int, default=100)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--rss-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        peak_rss_child(args.rss_child)
        return
    if not args.skip_throughput:
        asyncio.run(throughput(args.chunks, args.runs))
    memory(args.big_mb)


if __name__ == "__main__":
    main()
