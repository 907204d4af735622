"""``botgpt backup`` while turns and ingestion run, then ``botgpt restore``: everything the
backup holds is there once, nothing half-written appears, and searches answer the same."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.servers import REPO, Server, serving

ECHO = {"BOTGPT_ENGINE_FACTORY": "botgpt.adapters.echo_engine:build"}
TOPICS = ["lighthouses", "glaciers", "volcanoes", "coral reefs", "deserts", "rainforests"]


def botgpt(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "BOTGPT_DATA_DIR": str(data), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "botgpt.entrypoints.cli", *args]
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)


def document_text(topic: str, n: int) -> bytes:
    sentences = [f"Fact {i} about {topic}: the {topic} of region {n} measure {i * 7 + n} units." for i in range(60)]
    return " ".join(sentences).encode()


class Load:
    """Turns in a few conversations and uploads, run until stopped, as another user would."""

    def __init__(self, server: Server, headers: dict[str, str]) -> None:
        self.client = httpx.Client(base_url=server.base, headers=headers, timeout=60)
        self.stop = threading.Event()
        self.uploaded = threading.Event()
        self.failures: list[str] = []
        self.threads = [
            threading.Thread(target=self._turns, daemon=True),
            threading.Thread(target=self._uploads, daemon=True),
        ]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)
        self.client.close()

    def _turns(self) -> None:
        conversations = [
            self.client.post("/api/v1/conversations", json={"message": f"Start {i}"}).json() for i in range(3)
        ]
        n = 0
        while not self.stop.is_set():
            cid = conversations[n % 3]["conversation_id"]
            response = self.client.post(f"/api/v1/conversations/{cid}/messages", json={"message": f"Turn {n}"})
            if response.status_code != 201:
                self.failures.append(f"turn: {response.status_code} {response.text}")
            n += 1

    def _uploads(self) -> None:
        n = 0
        while not self.stop.is_set() and n < 12:
            topic = TOPICS[n % len(TOPICS)]
            files = {"file": (f"{topic}-{n}.txt", document_text(topic, n), "text/plain")}
            response = self.client.post("/api/v1/documents", files=files)
            if response.status_code not in (201, 202):
                self.failures.append(f"upload: {response.status_code} {response.text}")
            n += 1
            time.sleep(0.3)
        self.uploaded.set()


def all_ready(client: httpx.Client, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = client.get("/api/v1/documents", params={"limit": 100}).json()["documents"]
        if {document["status"] for document in listed} <= {"ready"}:
            return
        time.sleep(0.5)
    raise AssertionError(f"documents still not ready: {[d['status'] for d in listed]}")


def rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def search(client: httpx.Client, document_id: str, query: str) -> list[tuple[str, float]]:
    response = client.post("/api/v1/search", json={"query": query, "document_ids": [document_id], "k": 5})
    assert response.status_code == 200, response.text
    return [(hit["chunk_id"], round(hit["score"], 4)) for hit in response.json()["results"]]


def test_a_backup_under_load_restores_exactly(tmp_path: Path) -> None:
    source, backup, restored = tmp_path / "source", tmp_path / "backup", tmp_path / "restored" / "data"
    source.mkdir()
    created = botgpt(source / "data", "keys", "create", "--user", "alice")
    assert created.returncode == 0, created.stderr
    headers = {"Authorization": f"Bearer {created.stdout.strip()}"}

    with serving(source, ECHO) as server:
        server.wait_until("/ready", timeout=180)
        with Load(server, headers) as load:
            # Every upload is in before the backup (so that both sides end with the same
            # documents), while turns are being stored and documents are still in ingestion.
            assert load.uploaded.wait(timeout=60)
            made = botgpt(source / "data", "backup", str(backup))
            time.sleep(1)
        assert made.returncode == 0, made.stderr
        assert not load.failures, load.failures[:3]
        database = backup / "botgpt.sqlite3"
        ready = [row[0] for row in rows(database, "SELECT id FROM documents WHERE status = 'ready'")]
        assert ready, "no document was ready at backup time: the test proves less than it claims"
        with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
            all_ready(client)
            expected = {doc: search(client, doc, "facts of the region measure units") for doc in ready}

    back = botgpt(restored, "restore", str(backup), "--data-dir", str(restored))
    assert back.returncode == 0, back.stderr
    ready_chunks = rows(database, "SELECT sum(chunks_total) FROM documents WHERE status = 'ready'")[0][0]
    assert f"index rebuilt: {ready_chunks} chunks" in back.stdout
    copy = restored / "botgpt.sqlite3"
    for table in ("conversations", "messages", "documents", "chunks", "api_keys", "collections"):
        assert rows(copy, f"SELECT count(*) FROM {table}") == rows(database, f"SELECT count(*) FROM {table}"), table
    assert rows(copy, "SELECT count(*) - count(DISTINCT id) FROM messages") == [(0,)]
    # Nothing half-written: every user message has its answer, every count matches its rows.
    unanswered = (
        "SELECT count(*) FROM messages u WHERE u.role = 'user'"
        " AND NOT EXISTS (SELECT 1 FROM messages a WHERE a.parent_id = u.id)"
    )
    assert rows(copy, unanswered) == [(0,)]
    miscounted = (
        "SELECT count(*) FROM conversations c"
        " WHERE message_count != (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id)"
    )
    assert rows(copy, miscounted) == [(0,)]
    assert rows(copy, "SELECT count(*) FROM ingestion_jobs WHERE lease_until IS NOT NULL") == [(0,)]

    with serving(restored.parent, {**ECHO, "BOTGPT_DATA_DIR": str(restored)}) as again:
        again.wait_until("/ready", timeout=180)
        with httpx.Client(base_url=again.base, headers=headers, timeout=60) as client:
            # Documents caught mid-ingestion finish on the restored server; then both sides
            # hold the same documents, so BM25's statistics and every ranking agree.
            all_ready(client)
            for doc in ready:
                found = search(client, doc, "facts of the region measure units")
                assert [chunk for chunk, _ in found] == [chunk for chunk, _ in expected[doc]]
                assert [score for _, score in found] == pytest.approx([score for _, score in expected[doc]], abs=1e-3)
            listed = client.get("/api/v1/conversations", params={"limit": 100}).json()
            assert listed["total"] == rows(database, "SELECT count(*) FROM conversations")[0][0]
