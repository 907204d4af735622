"""The real server, started as a user starts it, with the real local model."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.model


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    data_dir = tmp_path_factory.mktemp("data")
    env = {**os.environ, "BOTGPT_DATA_DIR": str(data_dir), "BOTGPT_MAX_ANSWER_TOKENS": "96"}
    process = subprocess.Popen(
        [sys.executable, "-m", "botgpt.entrypoints.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert (Path(data_dir) / "botgpt.sqlite3").exists()


def wait_until_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stdout.read().decode() if process.stdout else "server exited")
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError("the server did not become ready")


def test_two_turn_conversation_with_the_local_model(server: str) -> None:
    with httpx.Client(base_url=server, timeout=120) as client:
        first = client.post("/api/v1/conversations", json={"user_id": "e2e", "message": "Hi! My name is Ada."})
        assert first.status_code == 201, first.text
        body = first.json()
        assert body["assistant_message"]["content"].strip()
        assert body["assistant_message"]["model"].startswith("SmolLM2")
        cid = body["conversation_id"]

        second = client.post(f"/api/v1/conversations/{cid}/messages", json={"message": "What is my name?"})
        assert second.status_code == 201, second.text
        usage = second.json()["assistant_message"]
        # The second prompt carried the first turn: it is longer than the first prompt.
        assert usage["prompt_tokens"] > body["assistant_message"]["prompt_tokens"]

        detail = client.get(f"/api/v1/conversations/{cid}").json()
        assert [m["role"] for m in detail["messages"]] == ["user", "assistant", "user", "assistant"]


def test_health_answers_while_the_model_generates(server: str) -> None:
    with httpx.Client(base_url=server, timeout=120) as client, ThreadPoolExecutor(1) as pool:
        generating = pool.submit(
            client.post,
            "/api/v1/conversations",
            json={"user_id": "e2e", "message": "Write a long story about a lighthouse keeper."},
        )
        time.sleep(0.3)
        latencies = []
        while not generating.done():
            started = time.perf_counter()
            assert client.get("/health").status_code == 200
            latencies.append(time.perf_counter() - started)
            time.sleep(0.05)
        assert generating.result().status_code == 201
    assert latencies, "generation finished before /health could be probed"
    assert max(latencies) < 0.5, latencies


def test_terminal_chat_holds_a_conversation(tmp_path: Path) -> None:
    env = {**os.environ, "BOTGPT_DATA_DIR": str(tmp_path), "BOTGPT_MAX_ANSWER_TOKENS": "32"}
    result = subprocess.run(
        [sys.executable, "-m", "botgpt.entrypoints.cli", "chat", "--user", "term"],
        input="Hello, I am Ada.\nWhat is my name?\n/quit\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answers = [line for line in result.stdout.splitlines() if "bot> " in line]
    assert len(answers) == 2, result.stdout
    assert all(answer.split("bot> ", 1)[1].strip() for answer in answers)


def test_grounded_answer_over_an_uploaded_document(server: str) -> None:
    text = (
        "The Panthers defense gave up just 308 points, ranking sixth in the league. "
        "Kawann Short led the team in sacks with 11.\n\n"
        "The Broncos offense ranked near the bottom of the league in yards."
    )
    with httpx.Client(base_url=server, timeout=120) as client:
        uploaded = client.post(
            "/api/v1/documents", data={"user_id": "e2e"}, files={"file": ("season.txt", text.encode())}
        )
        assert uploaded.status_code == 201, uploaded.text
        document_id = uploaded.json()["document_id"]
        deadline = time.monotonic() + 60
        while client.get(f"/api/v1/documents/{document_id}").json()["status"] != "ready":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        answer = client.post(
            "/api/v1/conversations",
            json={
                "user_id": "e2e",
                "message": "How many points did the Panthers defense give up?",
                "mode": "rag_mode",
                "document_ids": [document_id],
            },
        )
        assert answer.status_code == 201, answer.text
        citations = answer.json()["assistant_message"]["citations"]
        assert citations and "308 points" in citations[0]["snippet"]
