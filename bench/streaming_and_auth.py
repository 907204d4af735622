"""Streaming and authentication figures, on the real server over loopback.

1. Time to first streamed token: a client's POST with ``"stream": true`` until its first
   ``delta`` event, against the local model's own time to first token for the same prompt
   (the adapter called directly). The difference is botgpt's overhead.
2. ``GET /api/v1/conversations`` (pages of 20 of 10,000) with a bearer key, against the same
   request in open mode, driven by wrk.

    python bench/streaming_and_auth.py [--runs 9] [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _support import median, seed_conversations, started_local_model
from list_throughput import free_port, run_wrk, start_server

from botgpt.adapters.sqlite_store import open_sqlite_store
from botgpt.domain.model import ChatMessage, GenerationOptions, Role
from botgpt.domain.policy import DEFAULT_SYSTEM_PROMPT

QUESTION = "Question {n}: describe a lighthouse in one sentence."


def server_ttft(url: str, runs: int) -> list[float]:
    timings = []
    with httpx.Client(base_url=url, timeout=120) as client:
        for n in range(runs):
            body = {"user_id": "bench", "message": QUESTION.format(n=n), "stream": True}
            started = time.perf_counter()
            with client.stream("POST", "/api/v1/conversations", json=body) as response:
                lines = response.iter_lines()
                for line in lines:
                    if line.startswith("event: delta"):
                        timings.append(time.perf_counter() - started)
                        break
                for _ in lines:  # let the turn finish, as a client reading the answer would
                    pass
    return timings


async def model_ttft(runs: int) -> list[float]:
    model = await started_local_model()
    timings = []
    for n in range(runs):
        prompt = [ChatMessage(Role.SYSTEM, DEFAULT_SYSTEM_PROMPT), ChatMessage(Role.USER, QUESTION.format(n=n + 1000))]
        started = time.perf_counter()
        stream = model.stream(prompt, GenerationOptions(max_tokens=256, temperature=0.2))
        await anext(stream)
        timings.append(time.perf_counter() - started)
        await stream.aclose()
    await model.close()
    return timings


def ttft(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_server(Path(tmp), port, workers=1)
        try:
            through_server = server_ttft(f"http://127.0.0.1:{port}", runs)
        finally:
            server.terminate()
            server.wait(timeout=30)
    direct = asyncio.run(model_ttft(runs))
    overhead = median(through_server) - median(direct)
    print(
        f"time to first token: streamed through botgpt median {median(through_server) * 1000:.0f} ms, "
        f"model alone median {median(direct) * 1000:.0f} ms -> botgpt adds {overhead * 1000:.1f} ms ({runs} runs)"
    )


def create_key(data_dir: Path) -> str:
    env = {**os.environ, "BOTGPT_DATA_DIR": str(data_dir)}
    command = [sys.executable, "-m", "botgpt.entrypoints.cli", "keys", "create", "--user", "bench"]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout.strip()


def run_wrk_with(url: str, seconds: int, header: str | None) -> float:
    if header is None:
        return run_wrk(url, seconds)
    output = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", "-H", header, url], capture_output=True, text=True, check=True
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(output)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]


async def seed(data_dir: Path) -> None:
    async with open_sqlite_store(data_dir / "botgpt.sqlite3") as store:
        await seed_conversations(store, "bench", 10_000)


def auth(runs: int, seconds: int) -> None:
    if shutil.which("wrk") is None:
        print("auth throughput: skipped, wrk is not installed (apt-get install wrk)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        asyncio.run(seed(data_dir))
        port = free_port()
        server = start_server(data_dir, port, workers=2)
        base = f"http://127.0.0.1:{port}/api/v1/conversations?limit=20&offset=40"
        try:
            open_rates = [run_wrk_with(f"{base}&user_id=bench", seconds, None) for _ in range(runs)]
            secret = create_key(data_dir)
            time.sleep(2.5)  # servers re-check whether keys exist every 2 s
            assert httpx.get(base).status_code == 401
            keyed = [run_wrk_with(base, seconds, f"Authorization: Bearer {secret}") for _ in range(runs)]
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"open runs: {[round(r) for r in open_rates]}; keyed runs: {[round(r) for r in keyed]}")
    print(
        f"GET list, 2 workers: open mode median {median(open_rates):.0f} req/s, with a bearer key "
        f"median {median(keyed):.0f} req/s ({median(keyed) / median(open_rates):.0%}) over {runs} runs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--skip-ttft", action="store_true")
    args = parser.parse_args()
    if not args.skip_ttft:
        ttft(args.runs)
    auth(max(3, args.runs // 3), args.seconds)


if __name__ == "__main__":
    main()
