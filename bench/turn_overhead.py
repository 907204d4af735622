"""Backend overhead per turn, without model time.

A stand-in model answers instantly; the store is SQLite; the conversation already holds
1,000 messages. Each turn is a real HTTP request through the Quart app in process
(routing, validation, history fetch, context packing, token counting, the transactional
write, serialisation). Target: p50 <= 5 ms.

    python bench/turn_overhead.py [--turns 300] [--runs 5] [--metrics-access off]

``--metrics-access off`` measures without Prometheus counting (tracing stays off unless
OTEL_* is set in the environment), for the cost of metrics.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from dependency_injector import providers

sys.path.insert(0, str(Path(__file__).parent))
from _support import InstantChatModel, median, percentile, seed_long_conversation

from botgpt.entrypoints.container import build_container
from botgpt.entrypoints.core import provided
from botgpt.entrypoints.http.app import create_app
from botgpt.entrypoints.settings import Settings


async def one_run(turns: int, history: int, metrics_access: str = "auto") -> list[float]:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings.load(
            environ={}, data_dir=Path(data_dir), log_level="WARNING", metrics_access=metrics_access
        )
        container = build_container(settings)
        container.chat_model.override(providers.Object(InstantChatModel()))
        app = create_app(container)
        async with app.test_app_class(app, startup_timeout=120):  # a cold start on a busy machine
            store = await provided(container.store)
            conversation = await seed_long_conversation(store, "bench", history)
            client = app.test_client()
            url = f"/api/v1/conversations/{conversation.id}/messages"
            for _ in range(20):  # warm-up
                await client.post(url, json={"message": "warm up"})
            timings = []
            for index in range(turns):
                started = time.perf_counter()
                response = await client.post(url, json={"message": f"Question {index}: tell me more."})
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 201, await response.get_data()
        return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--history", type=int, default=1000)
    parser.add_argument("--metrics-access", default="auto", choices=("auto", "off"))
    args = parser.parse_args()
    p50s, p99s = [], []
    for run in range(args.runs):
        timings = asyncio.run(one_run(args.turns, args.history, args.metrics_access))
        p50s.append(percentile(timings, 0.5))
        p99s.append(percentile(timings, 0.99))
        print(f"run {run + 1}: p50={p50s[-1]:.2f} ms p99={p99s[-1]:.2f} ms")
    print(
        f"turn overhead ({args.history}-message conversation, SQLite, instant model, metrics {args.metrics_access}): "
        f"median p50={median(p50s):.2f} ms, median p99={median(p99s):.2f} ms over {args.runs} runs "
        f"(target p50 <= 5 ms)"
    )


if __name__ == "__main__":
    main()
