"""Production adapter figures, against loopback stand-ins (no service is reachable here).

1. Batched Gemini embedding: HTTP requests per 1,000 chunks (google-genai against a loopback
   server that counts them).
2. The time one retry adds to a Groq call: a 500 then a success, against a success, with
   the default retry policy (backoff base 0.5 s, full jitter).
3. The mongo adapter's list and get latency against mongomock, next to SQLite's. This shows
   adapter overhead only; it is not a claim about MongoDB itself.

    python bench/providers.py [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
from _support import median, percentile, seed_conversations

from botgpt.adapters.gemini import GeminiEmbedder, make_client
from botgpt.adapters.groq_chat import GroqChatModel
from botgpt.adapters.mongo_client import open_mongo_database
from botgpt.adapters.mongo_conversations import MongoConversationStore
from botgpt.adapters.resilience import RetryPolicy
from botgpt.adapters.sqlite_store import open_sqlite_store
from botgpt.domain.model import ChatMessage, GenerationOptions, Role
from botgpt.ports.stores import ConversationStore
from tests.loopback import LoopbackProvider, Reply, gemini_embeddings, groq_events


async def embedding_requests() -> None:
    with LoopbackProvider().running() as server:
        server.default(":batchEmbedContents", lambda body: Reply(json_body=gemini_embeddings(len(body["requests"]), 8)))
        embedder = GeminiEmbedder(make_client("k", server.url, 30), "text-embedding-004", 8, RetryPolicy())
        await embedder.embed([f"chunk {i}" for i in range(1000)])
        print(f"Gemini embedding: {server.count(':batchEmbedContents')} requests per 1,000 chunks")


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def retry_cost(runs: int) -> None:
    path = "/openai/v1/chat/completions"
    prompt = [ChatMessage(Role.USER, "hi")]
    with LoopbackProvider().running() as server:
        os.environ["GROQ_BASE_URL"] = server.url
        model = GroqChatModel("k", "llama-3.3-70b-versatile", 8192, RetryPolicy())
        clean, retried = [], []
        for _ in range(runs):
            server.script(path, Reply(events=groq_events("ok")))
            clean.append(await timed(lambda: model.complete(prompt, GenerationOptions(max_tokens=8, temperature=0))))
            server.script(
                path, Reply(status=500, json_body={"error": {"message": "x"}}), Reply(events=groq_events("ok"))
            )
            retried.append(await timed(lambda: model.complete(prompt, GenerationOptions(max_tokens=8, temperature=0))))
        added = median(retried) - median(clean)
        print(
            f"one retry adds {added * 1000:.0f} ms (median over {runs}; call {median(clean) * 1000:.1f} ms "
            f"without, {median(retried) * 1000:.0f} ms with; backoff is uniform(0, 0.5 s))"
        )


async def store_latency(name: str, store: ConversationStore, runs: int) -> None:
    await seed_conversations(store, "bench", 1000)
    first = (await store.list_conversations("bench", 1))[0]
    lists = [await timed(lambda: store.list_conversations("bench", 20, 0)) for _ in range(runs * 20)]
    gets = [await timed(lambda: store.get_conversation("bench", first.id)) for _ in range(runs * 20)]
    print(
        f"{name:>9}: list 20 of 1,000 p50 {percentile(lists, 0.5) * 1000:.2f} ms, "
        f"get p50 {percentile(gets, 0.5) * 1000:.3f} ms"
    )


async def stores(runs: int) -> None:
    from mongomock_motor import AsyncMongoMockClient

    with tempfile.TemporaryDirectory() as tmp:
        async with open_sqlite_store(Path(tmp) / "db.sqlite3") as sqlite:
            await store_latency("sqlite", sqlite, runs)
    async with open_mongo_database("mongodb://mock", "bench", AsyncMongoMockClient) as database:
        await store_latency("mongomock", MongoConversationStore(database), runs)


async def main_async(runs: int) -> None:
    await embedding_requests()
    await retry_cost(runs)
    await stores(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    asyncio.run(main_async(parser.parse_args().runs))


if __name__ == "__main__":
    main()
