"""A worker process killed mid-ingestion: after a restart the document has exactly its chunks."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from botgpt.adapters.file_blobs import FileBlobStorage
from botgpt.adapters.sqlite_db import open_sqlite_database
from botgpt.adapters.sqlite_documents import SqliteDocumentStore
from botgpt.domain.clock import utc_now
from botgpt.domain.documents import DocumentService
from botgpt.plugins.manager import extractors_by_extension, plugin_manager

pytestmark = pytest.mark.model


async def upload(data_dir: Path, text: str) -> str:
    async with open_sqlite_database(data_dir / "botgpt.sqlite3") as database:
        store, blobs = SqliteDocumentStore(database), FileBlobStorage(data_dir / "blobs")
        service = DocumentService(store, blobs, extractors_by_extension(plugin_manager()), [], utc_now)

        async def body() -> object:
            yield text.encode()

        return (await service.upload("crash", "long.txt", body())).document.id  # type: ignore[arg-type]


def progress(data_dir: Path, document_id: str) -> tuple[str, int, int, int]:
    with sqlite3.connect(data_dir / "botgpt.sqlite3") as db:
        status, total = db.execute("SELECT status, chunks_total FROM documents WHERE id = ?", (document_id,)).fetchone()
        stored, distinct = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT ordinal) FROM chunks WHERE document_id = ?", (document_id,)
        ).fetchone()
    return status, total, stored, distinct


def worker(data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ, "BOTGPT_DATA_DIR": str(data_dir), "BOTGPT_INGEST_LEASE_SECONDS": "3",
        "BOTGPT_INGEST_BATCH_SIZE": "8", "BOTGPT_LOG_LEVEL": "WARNING",
    }  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "botgpt.entrypoints.cli", "worker"], env=env)


def test_a_killed_worker_resumes_without_duplicates_or_orphans(tmp_path: Path) -> None:
    sentences = [f"Sentence {i} tells of lighthouse {i % 17} and its keeper's logbook entry." for i in range(1500)]
    document_id = asyncio.run(upload(tmp_path, " ".join(sentences)))

    first = worker(tmp_path)
    deadline = time.monotonic() + 120
    while progress(tmp_path, document_id)[2] < 16:
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.wait()
    status, total, stored, _ = progress(tmp_path, document_id)
    assert status == "processing" and 0 < stored < total

    second = worker(tmp_path)  # claims the job once the dead worker's lease has run out
    try:
        while progress(tmp_path, document_id)[0] != "ready":
            assert time.monotonic() < deadline and second.poll() is None
            time.sleep(0.2)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    status, total, stored, distinct = progress(tmp_path, document_id)
    assert stored == distinct == total
