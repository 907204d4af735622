"""SIGTERM while answers stream and a document is being ingested: new work is refused, a
short answer finishes and is stored, a long one ends with an error event and is not stored,
the ingestion lease is released, and the engine stops last."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from botgpt.adapters.engine_status import ask_status
from tests.e2e.servers import Server, serving

PACED = {"BOTGPT_ENGINE_FACTORY": "tests.engines:paced_echo", "BOTGPT_SHUTDOWN_GRACE_SECONDS": "2"}
LONG = " ".join(["word"] * 300)  # echoed at 30 ms a word: about 8 s, far past the grace period


def stream(server: Server, message: str, into: dict[str, Any]) -> None:
    body = {"message": message, "stream": True}
    with httpx.stream("POST", f"{server.base}/api/v1/conversations", json=body, timeout=60) as response:
        lines = list(response.iter_lines())
    into["events"] = [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]
    into["last"] = json.loads([line for line in lines if line.startswith("data: ")][-1].removeprefix("data: "))


def openai_stream(server: Server, into: dict[str, Any]) -> None:
    body = {"model": "botgpt", "stream": True, "messages": [{"role": "user", "content": LONG}]}
    with httpx.stream("POST", f"{server.base}/v1/chat/completions", json=body, timeout=60) as response:
        into["data"] = [line.removeprefix("data: ") for line in response.iter_lines() if line.startswith("data: ")]


def rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchall()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_mid_stream_drains_then_stops_the_engine_last(tmp_path: Path, workers: str) -> None:
    engine_dir = tmp_path / "engine"
    env = {**PACED, "BOTGPT_ENGINE_DIR": str(engine_dir)}
    with serving(tmp_path, env, args=("--workers", workers)) as server:
        server.wait_until("/ready", timeout=180)
        engine = int(ask_status(engine_dir / "engine.sock", 5.0)["pid"])
        document = "\n\n".join(f"Paragraph {n} about harbours and their lights, number {n}." for n in range(3000))
        upload = httpx.post(
            f"{server.base}/api/v1/documents", files={"file": ("big.txt", document.encode(), "text/plain")}, timeout=60
        )
        assert upload.status_code in (201, 202), upload.text
        short: dict[str, Any] = {}
        cut: dict[str, Any] = {}
        sdk: dict[str, Any] = {}
        streams = [
            threading.Thread(target=stream, args=(server, "Say three words", short)),
            threading.Thread(target=stream, args=(server, LONG, cut)),
            threading.Thread(target=openai_stream, args=(server, sdk)),
        ]
        for thread in streams:
            thread.start()
        time.sleep(1.0)  # both answers are streaming, the document is in ingestion
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        refused = httpx.get(f"{server.base}/api/v1/conversations", timeout=10)
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "shutting_down"
        assert refused.headers["Retry-After"] == "5"
        assert alive(engine)  # the workers still need it
        for thread in streams:
            thread.join(timeout=30)
        assert server.process.wait(timeout=30) == 0
        log = server.log()

    assert short["events"][-1] == "done", short
    assert cut["events"][-1] == "error" and "delta" in cut["events"], cut
    assert cut["last"]["error"]["code"] == "shutting_down", cut["last"]
    # The OpenAI stream ends in its own shape: an error chunk, then [DONE].
    assert sdk["data"][-1] == "[DONE]" and json.loads(sdk["data"][-2])["error"]["code"] == "shutting_down", sdk
    database = tmp_path / "data" / "botgpt.sqlite3"
    # Stored: the short turn, whole. Not stored: any part of the cut one.
    assert rows(database, "SELECT role, content FROM messages ORDER BY seq") == [
        ("user", "Say three words"),
        ("assistant", "echo: Say three words"),
    ]
    jobs = rows(database, "SELECT worker, lease_until FROM ingestion_jobs")
    assert jobs == [(None, None)], jobs  # released: the next worker resumes at once
    assert not alive(engine)
    assert log.index("botgpt stopped") < log.index("engine stopped"), log[-3000:]
    assert "Traceback" not in log, log[-3000:]
