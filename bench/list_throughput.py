"""GET /api/v1/conversations throughput: pages of 20 out of 10,000 conversations.

Starts the real server (`botgpt serve`) on loopback over a seeded SQLite file and drives it
with wrk (Debian package `wrk`) when installed, else with an asyncio httpx client, which
shares the 2 cores with the server and so understates the figure. Target: >= 1,000 req/s.

    python bench/list_throughput.py [--workers 2] [--seconds 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _support import median, seed_conversations

from botgpt.adapters.sqlite_store import open_sqlite_store

USER = "bench"
PATH = f"/api/v1/conversations?user_id={USER}&limit=20&offset=40"


async def seed(data_dir: Path, count: int) -> None:
    async with open_sqlite_store(data_dir / "botgpt.sqlite3") as store:
        await seed_conversations(store, USER, count)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BOTGPT_DATA_DIR": str(data_dir), "BOTGPT_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "botgpt.entrypoints.cli", "serve", "--port", str(port)]
    process = subprocess.Popen([*command, "--workers", str(workers)], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise TimeoutError("server did not start")


def run_wrk(url: str, seconds: int) -> float:
    output = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", url], capture_output=True, text=True, check=True
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(output)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]


async def run_httpx(url: str, seconds: int) -> float:
    done = 0
    deadline = time.monotonic() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal done
        while time.monotonic() < deadline:
            response = await client.get(url)
            response.raise_for_status()
            done += 1

    async with httpx.AsyncClient() as client:
        await asyncio.gather(*(worker(client) for _ in range(16)))
    return done / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--conversations", type=int, default=10_000)
    args = parser.parse_args()
    use_wrk = shutil.which("wrk") is not None
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        asyncio.run(seed(data_dir, args.conversations))
        port = free_port()
        server = start_server(data_dir, port, args.workers)
        url = f"http://127.0.0.1:{port}{PATH}"
        try:
            body = httpx.get(url).json()
            assert body["total"] == args.conversations and len(body["conversations"]) == 20
            rates = []
            for run in range(args.runs):
                rate = run_wrk(url, args.seconds) if use_wrk else asyncio.run(run_httpx(url, args.seconds))
                rates.append(rate)
                print(f"run {run + 1}: {rate:.0f} req/s")
        finally:
            server.terminate()
            server.wait(timeout=30)
    client = "wrk -t2 -c32" if use_wrk else "httpx (in-process, 16 concurrent)"
    print(
        f"GET list (20 of {args.conversations}, SQLite, {args.workers} worker(s), {client}): "
        f"median {median(rates):.0f} req/s over {args.runs} runs (target >= 1000)"
    )


if __name__ == "__main__":
    main()
