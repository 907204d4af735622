"""Raw speed of the llama.cpp engine, in process: decode tok/s, prefill tok/s, batching.

Runs the engine the server runs (the same slots and batched decode), without HTTP or
sockets, so that build options and settings can be compared. Every figure is the median of
``--runs`` runs.

    python bench/engine_speed.py [--runs 5] [--extra-buffers] [--threads 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _support import median

from botgpt.adapters.engine_protocol import Job
from botgpt.adapters.llamacpp_engine import LlamaEngine, build


def run(engine: LlamaEngine, prompts: list[str], max_tokens: int) -> tuple[float, list[dict[str, Any]]]:
    outcomes: list[list[dict[str, Any]]] = [[] for _ in prompts]
    for prompt, events in zip(prompts, outcomes, strict=True):
        engine.admit(Job([{"role": "user", "content": prompt}], max_tokens, 0.0, events.append))
    started = time.perf_counter()
    while engine.active:
        engine.step()
    return time.perf_counter() - started, [events[-1] for events in outcomes]


def decode_rate(engine: LlamaEngine, users: int) -> float:
    prompts = [f"Write a long story about a lighthouse keeper number {n}." for n in range(users)]
    elapsed, done = run(engine, prompts, 128)
    return sum(d["completion_tokens"] for d in done) / elapsed


def prefill_rate(engine: LlamaEngine, run_number: int) -> float:
    prompt = f"{run_number} " + "The keeper climbed the stairs of the lighthouse at dusk. " * 60
    elapsed, done = run(engine, [prompt], 1)
    return done[0]["prompt_tokens"] / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--extra-buffers", action="store_true")
    args = parser.parse_args()
    settings = {"llama_slots": 8, "llama_threads": args.threads, "llama_extra_buffers": args.extra_buffers}
    engine = build({**settings, "llama_prefix_cache": False})  # every prompt is evaluated in full
    engine.load()
    from llama_cpp import llama_cpp

    print(llama_cpp.llama_print_system_info().decode().strip())
    print(f"extra buffers: {args.extra_buffers}, threads: {args.threads or 'one per CPU'}")
    single = median([decode_rate(engine, 1) for _ in range(args.runs)])
    print(f"decode, 1 stream: {single:.1f} tok/s")
    print(f"prefill: {median([prefill_rate(engine, n) for n in range(args.runs)]):.0f} tok/s")
    for users in (2, 4, 8):
        rate = median([decode_rate(engine, users) for _ in range(args.runs)])
        print(f"decode, {users} streams batched: {rate:.1f} tok/s aggregate ({rate / single:.2f}x one stream)")


if __name__ == "__main__":
    main()
