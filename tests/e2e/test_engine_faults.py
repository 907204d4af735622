"""The engine dies or hangs under a real server; the server survives and stores nothing.

These run the real ``botgpt serve``, the real supervisor and engine process, with an engine
that echoes unless asked to fail (``tests/engines.py``): no model is needed.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from botgpt.adapters.engine_status import ask_status, read_status
from tests.e2e.servers import Server, serving
from tests.engines import HANG, RAISE, SEGFAULT

USER = {"X-User-Id": "faults"}


@pytest.fixture(scope="module")
def engine_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("eng")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, engine_dir: Path) -> Iterator[Server]:
    env = {
        "BOTGPT_ENGINE_FACTORY": "tests.engines:faulty",
        "BOTGPT_ENGINE_DIR": str(engine_dir),
        "BOTGPT_ENGINE_STALL_SECONDS": "2",
        "BOTGPT_LLAMA_SLOTS": "1",
        "BOTGPT_ENGINE_QUEUE_DEPTH": "1",
    }
    with serving(tmp_path_factory.mktemp("faults"), env) as running:
        running.wait_until("/ready")
        yield running


def start(server: Server, message: str, **extra: Any) -> httpx.Response:
    body = {"user_id": "faults", "message": message, **extra}
    return httpx.post(f"{server.base}/api/v1/conversations", json=body, timeout=60)


def conversations(server: Server) -> list[dict[str, Any]]:
    listing = httpx.get(f"{server.base}/api/v1/conversations", params={"user_id": "faults"}, timeout=10)
    assert listing.status_code == 200
    return list(listing.json()["conversations"])


def sse_events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    name = None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: ") and name:
            yield name, json.loads(line.removeprefix("data: "))


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "model_unavailable"
    assert int(response.headers["Retry-After"]) >= 1
    assert "Traceback" not in response.text


def recovers(server: Server) -> None:
    """The engine comes back by itself, and the next turn succeeds."""
    server.wait_until("/ready", timeout=30)
    answer = start(server, "are you back")
    assert answer.status_code == 201, answer.text
    assert answer.json()["assistant_message"]["content"] == "echo: are you back"


def test_a_segfault_mid_turn_is_a_clean_503_and_the_engine_restarts(server: Server) -> None:
    before = len(conversations(server))
    response = start(server, SEGFAULT)
    assert_unavailable(response)
    assert httpx.get(f"{server.base}/health").status_code == 200
    assert len(conversations(server)) == before  # not even the user message was stored
    recovers(server)
    log = server.log()
    request_id = response.json()["error"]["request_id"]
    assert f"request {request_id} failed" in log and "SIGSEGV" in log
    assert "Fatal Python error: Segmentation fault" in log  # faulthandler's trace reached the log


def test_an_exception_inside_the_engine_restarts_it(server: Server) -> None:
    assert_unavailable(start(server, RAISE))
    recovers(server)
    log = server.log()
    assert "RuntimeError: a bug in the engine" in log and "exit status 70" in log


def test_a_hung_engine_is_killed_and_the_turn_fails_cleanly(server: Server) -> None:
    first = start(server, "hello")
    cid = first.json()["conversation_id"]
    started = time.monotonic()
    response = httpx.post(f"{server.base}/api/v1/conversations/{cid}/messages", json={"message": HANG}, timeout=60)
    assert_unavailable(response)
    assert time.monotonic() - started < 15
    detail = httpx.get(f"{server.base}/api/v1/conversations/{cid}", timeout=10).json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
    recovers(server)
    assert "made no progress" in server.log()


def test_kill_9_in_the_middle_of_a_streamed_answer(server: Server, engine_dir: Path) -> None:
    before = len(conversations(server))
    long_message = " ".join(f"word{n}" for n in range(300))
    body = {"user_id": "faults", "message": long_message, "stream": True}
    seen: list[str] = []
    with httpx.stream("POST", f"{server.base}/api/v1/conversations", json=body, timeout=60) as response:
        assert response.status_code == 200
        for name, data in sse_events(response):
            seen.append(name)
            if name == "delta" and seen.count("delta") == 3:
                os.kill(int(read_status(engine_dir)["pid"]), signal.SIGKILL)
            if name == "error":
                assert data["error"]["code"] == "model_unavailable"
    assert seen.count("delta") >= 3 and seen[-1] == "error" and "done" not in seen
    assert len(conversations(server)) == before
    recovers(server)
    assert "SIGKILL" in server.log()


def test_past_the_queue_depth_the_answer_is_503_at_once(server: Server, engine_dir: Path) -> None:
    long_message = " ".join(f"word{n}" for n in range(100))  # 2 s of echo with one slot
    results: dict[str, httpx.Response] = {}

    def run(name: str) -> None:
        results[name] = start(server, long_message)

    threads = [threading.Thread(target=run, args=(name,)) for name in ("running", "queued")]
    threads[0].start()
    time.sleep(0.5)
    threads[1].start()
    time.sleep(0.5)
    started = time.monotonic()
    refused = start(server, "one too many")
    assert time.monotonic() - started < 1.0
    assert_unavailable(refused)
    for thread in threads:
        thread.join()
    assert results["running"].status_code == results["queued"].status_code == 201
    assert ask_status(engine_dir / "engine.sock", 2.0)["waiting"] == 0


def test_a_client_that_leaves_the_queue_is_forgotten(server: Server, engine_dir: Path) -> None:
    long_message = " ".join(f"word{n}" for n in range(100))
    runner = threading.Thread(target=start, args=(server, long_message))
    runner.start()
    time.sleep(0.5)
    with pytest.raises(httpx.ReadTimeout):
        start_quick = httpx.post(
            f"{server.base}/api/v1/conversations",
            json={"user_id": "faults", "message": "I will not wait"},
            timeout=0.5,
        )
        del start_quick
    time.sleep(0.3)
    assert ask_status(engine_dir / "engine.sock", 2.0)["waiting"] == 0
    runner.join()
    titles = [c["title"] for c in conversations(server)]
    assert not any("I will not wait" in title for title in titles)


def test_a_crash_loop_is_reported_and_the_rest_of_the_api_works(tmp_path: Path) -> None:
    env = {"BOTGPT_ENGINE_FACTORY": "tests.engines:crashes_at_start", "BOTGPT_ENGINE_DIR": str(tmp_path / "eng")}
    with serving(tmp_path, env) as server:
        not_ready = server.wait_until("/ready", status=503)
        deadline = time.monotonic() + 30
        while not_ready.json()["checks"]["model"] != "crash_loop":
            assert time.monotonic() < deadline, not_ready.text
            time.sleep(0.3)
            not_ready = httpx.get(f"{server.base}/ready")
        assert not_ready.json()["checks"]["store"] == "ok"
        assert_unavailable(start(server, "hello"))
        assert httpx.get(f"{server.base}/api/v1/conversations", params={"user_id": "x"}).status_code == 200
        upload = httpx.post(
            f"{server.base}/api/v1/documents", data={"user_id": "x"}, files={"file": ("a.txt", b"Some text.")}
        )
        assert upload.status_code == 201, upload.text
        assert "crash loop" in server.log()
