"""``botgpt serve --workers 2``: requests land on both workers, and a scrape answered by either
one sums them all; the engine's gauges come from its status socket; every log line is JSON."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from prometheus_client.mmap_dict import MmapedDict

from tests.e2e.servers import serving
from tests.http.test_metrics import samples, total, value

HEALTH = {"route": "/health", "status": "200"}


def health_counts_by_worker(directory: Path) -> dict[str, float]:
    """Each worker's own count of answered /health requests, from its multiprocess file."""
    counts = {}
    for path in directory.glob("counter_*.db"):
        pid = path.stem.split("_", 1)[1]
        counts[pid] = sum(
            count
            for key, count, _, _ in MmapedDict.read_all_values_from_file(str(path))
            if json.loads(key)[1] == "botgpt_http_requests_total" and HEALTH.items() <= json.loads(key)[2].items()
        )
    return counts


def test_two_workers_count_into_one_scrape(tmp_path: Path) -> None:
    directory = tmp_path / "prometheus"
    env = {
        "BOTGPT_ENGINE_FACTORY": "tests.engines:paced_echo",
        "BOTGPT_ENGINE_DIR": str(tmp_path / "engine"),
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "BOTGPT_LOG_FORMAT": "auto",  # JSON: botgpt serve is a server
    }
    with serving(tmp_path, env, args=("--workers", "2")) as server:
        server.wait_until("/ready", timeout=120)

        def health(_: int) -> int:  # a client of its own each: a new connection, to any worker
            return httpx.get(f"{server.base}/health", timeout=10).status_code

        sent = 0
        with ThreadPoolExecutor(8) as pool:
            for _ in range(30):  # until the kernel has handed connections to both workers
                sent += sum(status == 200 for status in pool.map(health, range(16)))
                if len([n for n in health_counts_by_worker(directory).values() if n > 0]) == 2:
                    break
        by_worker = health_counts_by_worker(directory)
        assert len([n for n in by_worker.values() if n > 0]) == 2, by_worker
        assert sum(by_worker.values()) == sent

        for n in range(3):
            answer = httpx.post(f"{server.base}/api/v1/conversations", json={"user_id": f"u{n}", "message": "hi"})
            assert answer.status_code == 201, answer.text
        scrapes = [samples(httpx.get(f"{server.base}/metrics", timeout=10).text) for _ in range(6)]
        for scraped in scrapes:  # whichever worker answers, the sums are the same
            assert total(scraped, "botgpt_http_requests_total", **HEALTH) == sent
            assert value(scraped, "botgpt_turns_total", mode="open_chat", provider="llama_cpp", outcome="answered") == 3
            first_tokens = {"mode": "open_chat", "provider": "llama_cpp", "streamed": "false"}
            assert value(scraped, "botgpt_turn_first_token_seconds_count", **first_tokens) == 3
            assert value(scraped, "botgpt_engine_up") == 1 and value(scraped, "botgpt_engine_slots") == 4
            assert value(scraped, "botgpt_engine_busy_slots") == 0
            assert value(scraped, "botgpt_engine_restarts_total") == 0
    log = server.log().splitlines()
    parsed = [json.loads(line) for line in log if line.strip()]  # every line, hypercorn's and the engine's too
    assert {"botgpt.access", "botgpt.turns"} <= {line["logger"] for line in parsed}
    turns = [line for line in parsed if line.get("event") == "turn"]
    assert len(turns) == 3
    assert all(line["request_id"] and line["timings"]["queue_seconds"] is not None for line in turns)
