"""Concurrent chat users against one real server with 2 HTTP workers and the real model.

For 1, 4 and 8 users, each user streams chat turns (a new conversation each, a different
question each) for a few rounds. Per request: time to first token. Per level: aggregate
completion tokens/s over the wall time, against the single stream; queue rejections (503)
and failures (anything else that is not a full answer). Then the follow-up TTFT (a second
turn in a long conversation, which the engine serves from the slot holding its prefix)
against a first turn of the same length, and the RAG first-turn TTFT with 5 sources.

    python bench/concurrency.py [--rounds 3] [--answer-tokens 64] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
from _support import median, percentile

from tests.e2e.servers import free_port

TOPICS = ["lighthouses", "volcanoes", "bread", "glaciers", "bees", "trains", "chess", "tides", "owls", "maps"]


async def stream_turn(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """One streamed turn: TTFT, completion tokens, and how it ended."""
    started = time.perf_counter()
    first: float | None = None
    async with client.stream("POST", path, json={**body, "stream": True}) as response:
        if response.status_code != 200:
            await response.aread()
            return {"outcome": "rejected" if response.status_code == 503 else "failed", "status": response.status_code}
        event = None
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
                if event == "delta" and first is None:
                    first = time.perf_counter() - started
            elif line.startswith("data: ") and event in ("done", "error"):
                data = json.loads(line.removeprefix("data: "))
                if event == "error":
                    return {"outcome": "failed", "error": data["error"]["code"]}
                message = data["assistant_message"]
                return {
                    "outcome": "ok",
                    "ttft": first if first is not None else time.perf_counter() - started,
                    "tokens": message["completion_tokens"],
                    "conversation_id": data["conversation_id"],
                    "answer": message["content"],
                }
    return {"outcome": "failed", "error": "stream ended early"}


async def user(client: httpx.AsyncClient, index: int, rounds: int) -> list[dict[str, Any]]:
    results = []
    for round_ in range(rounds):
        topic = TOPICS[(index + round_) % len(TOPICS)]
        body = {"user_id": f"user{index}", "message": f"Write a few sentences about {topic}. (#{index}.{round_})"}
        results.append(await stream_turn(client, "/api/v1/conversations", body))
    return results


async def level(base: str, users: int, rounds: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        started = time.perf_counter()
        per_user = await asyncio.gather(*(user(client, n, rounds) for n in range(users)))
        wall = time.perf_counter() - started
    results = [r for rs in per_user for r in rs]
    ok = [r for r in results if r["outcome"] == "ok"]
    return {
        "users": users,
        "requests": len(results),
        "ttft_p50": median([r["ttft"] for r in ok]) if ok else float("nan"),
        "ttft_p99": percentile([r["ttft"] for r in ok], 0.99) if ok else float("nan"),
        "tokens_per_s": sum(r["tokens"] for r in ok) / wall,
        "rejected": sum(r["outcome"] == "rejected" for r in results),
        "failed": sum(r["outcome"] == "failed" for r in results),
    }


async def follow_up_ttft(base: str, runs: int) -> tuple[float, float]:
    """TTFT of a follow-up in a long conversation, against a first turn as long."""
    history = "Tell me everything about lighthouses, their keepers and their lenses. " * 12
    warm, cold = [], []
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        for run in range(runs):
            first = await stream_turn(client, "/api/v1/conversations", {"user_id": "fu", "message": f"{run} {history}"})
            cid = first["conversation_id"]
            follow = await stream_turn(client, f"/api/v1/conversations/{cid}/messages", {"message": "And today?"})
            warm.append(follow["ttft"])
            same_length = f"{run} {history}\n{first['answer']}\nAnd today?"
            fresh = await stream_turn(client, "/api/v1/conversations", {"user_id": "fu2", "message": same_length})
            cold.append(fresh["ttft"])
    return median(warm), median(cold)


async def rag_ttft(base: str, runs: int) -> tuple[float, int]:
    corpus = Path(__file__).parents[1].parent / "shared" / "data" / "xquad_en" / "corpus.jsonl"
    rows = [json.loads(line) for line in corpus.read_text().splitlines()[:40]]
    passages = {row["_id"]: row["text"] for row in rows}
    # One question per passage: each first turn retrieves other sources, so no turn finds
    # the previous one's sources in a slot (only the system prompt is shared, as in life).
    questions, seen = [], set()
    for line in (corpus.parent / "qa.jsonl").read_text().splitlines():
        qa = json.loads(line)
        if qa["passage_id"] in passages and qa["passage_id"] not in seen and len(questions) < runs:
            seen.add(qa["passage_id"])
            questions.append(qa["question"])
    passages_text = list(passages.values())
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        files = {"file": ("passages.txt", "\n\n".join(passages_text).encode())}
        document = (await client.post("/api/v1/documents", data={"user_id": "rag"}, files=files)).json()
        while (await client.get(f"/api/v1/documents/{document['document_id']}")).json()["status"] != "ready":  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        ttfts, prompt_tokens = [], 0
        for question in questions:
            body = {
                "user_id": "rag",
                "message": question,
                "mode": "rag_mode",
                "document_ids": [document["document_id"]],
            }
            result = await stream_turn(client, "/api/v1/conversations", body)
            ttfts.append(result["ttft"])
            detail = (await client.get(f"/api/v1/conversations/{result['conversation_id']}")).json()
            prompt_tokens = detail["messages"][-1]["prompt_tokens"]
    return median(ttfts), prompt_tokens


def start_server(workers: int, answer_tokens: int, data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "BOTGPT_DATA_DIR": str(data), "BOTGPT_MAX_ANSWER_TOKENS": str(answer_tokens)}
    command = [sys.executable, "-m", "botgpt.entrypoints.cli", "serve", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--answer-tokens", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--levels", default="1,4,8")
    parser.add_argument("--rag-only", action="store_true", help="only the RAG first-turn TTFT")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        process, base = start_server(args.workers, args.answer_tokens, Path(data))
        try:
            single = None
            if args.levels:
                print("users  requests  TTFT p50   TTFT p99   tokens/s  vs 1 stream  rejected  failed")
            for users in map(int, filter(None, args.levels.split(","))):
                row = asyncio.run(level(base, users, args.rounds))
                single = single or row["tokens_per_s"]
                print(
                    f"{row['users']:>5}  {row['requests']:>8}  {row['ttft_p50'] * 1000:>6.0f} ms  "
                    f"{row['ttft_p99'] * 1000:>6.0f} ms  {row['tokens_per_s']:>8.1f}  "
                    f"{row['tokens_per_s'] / single:>10.2f}x"
                    f"  {row['rejected']:>8}  {row['failed']:>6}"
                )
            if args.rag_only:
                rag, prompt = asyncio.run(rag_ttft(base, args.rounds))
                print(f"RAG first-turn TTFT (5 sources, {prompt} prompt tokens): {rag * 1000:.0f} ms")
                return
            warm, cold = asyncio.run(follow_up_ttft(base, args.rounds))
            print(
                f"follow-up TTFT {warm * 1000:.0f} ms vs a fresh prompt as long {cold * 1000:.0f} ms: "
                f"{cold / warm:.1f}x"
            )
            rag, prompt = asyncio.run(rag_ttft(base, max(3, args.rounds)))
            print(f"RAG first-turn TTFT (5 sources, {prompt} prompt tokens): {rag * 1000:.0f} ms")
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
