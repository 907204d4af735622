"""``botgpt reindex``: re-embed a user's documents with the configured embedder, with progress.

It queues the documents and runs ingestion workers until they are done. Interrupted, it can
simply be run again: queued documents keep their jobs, and finished ones are skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, TextIO

from botgpt.domain.reindex import Reindexer, ReindexProgress
from botgpt.entrypoints.container import Container, build_container
from botgpt.entrypoints.core import provided, stop_resources
from botgpt.entrypoints.settings import Settings


def add_reindex_command(commands: Any) -> None:
    """Add ``reindex`` to the CLI's subcommands."""
    reindex = commands.add_parser("reindex", help="re-embed a user's documents with the configured embedder")
    reindex.add_argument("--user", required=True, help="whose documents")
    reindex.add_argument("--all", action="store_true", help="every document, not only those another embedder made")
    reindex.set_defaults(run=_reindex, uses_models=True)


def _reindex(args: argparse.Namespace, settings: Settings) -> int:
    container = build_container(settings)
    try:
        return asyncio.run(run_reindex(container, args.user, args.all, sys.stdout))
    except KeyboardInterrupt:
        print("interrupted; run `botgpt reindex` again to finish (the queued documents keep their place)")
        return 130


async def run_reindex(container: Container, user: str, everything: bool, out: TextIO, interval: float = 1.0) -> int:
    """Queue, then report progress until every covered document is ready or failed."""
    try:
        reindexer: Reindexer = await provided(container.reindexer)
        await provided(container.workers)
        documents = await reindexer.queue(user, everything)
        if not documents:
            print(f"nothing to reindex: every document of {user} is on {reindexer.embedder.name}", file=out)
            return 0
        container.ingest_wake().set()
        progress = await _follow(reindexer, user, documents, out, interval)
        return 1 if progress.failed else 0
    finally:
        await stop_resources(container)


async def _follow(reindexer: Reindexer, user: str, documents: Any, out: TextIO, interval: float) -> ReindexProgress:
    shown = None
    while True:
        progress = await reindexer.progress(user, documents)
        line = (
            f"reindex to {reindexer.embedder.name}: {progress.ready + progress.failed + progress.deleted}/"
            f"{progress.documents} documents ({progress.failed} failed, {progress.deleted} deleted meanwhile),"
            f" {progress.chunks_embedded}/{progress.chunks_total} chunks"
        )
        if line != shown:
            print(line, file=out, flush=True)
            shown = line
        if progress.finished:
            return progress
        await asyncio.sleep(interval)
