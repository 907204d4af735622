"""A RAG turn whose chat model and embedder are both another botgpt, by configuration alone.

Server B is an ordinary ``botgpt serve`` (echo engine, real all-MiniLM-L6-v2). Server A runs
with ``chat_provider = openai`` and ``embedder = openai`` pointed at B's ``/v1``: A's
ingestion embeds through B's ``/v1/embeddings``, A's retrieval embeds the question the same
way, and A's answer comes from B's ``/v1/chat/completions``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.servers import Server, serving
from tests.openai_peer import PEER_DIMENSION, PEER_EMBED_MODEL, botgpt_peer

FACT = "The Pharos of Alexandria stood about 100 metres tall."
DOCUMENT = f"The Pharos was a lighthouse built around 280 BC on the island of Pharos.\n{FACT}\n"
CHAT_MODEL = "botgpt-peer"


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with botgpt_peer(tmp_path_factory.mktemp("peer_b")) as server:
        yield server


@pytest.fixture(scope="module")
def server_a(peer: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        "BOTGPT_STORE": "memory",
        "BOTGPT_CHAT_PROVIDER": "openai",
        "BOTGPT_EMBEDDER": "openai",
        "BOTGPT_OPENAI_BASE_URL": f"{peer.base}/v1",
        "BOTGPT_OPENAI_CHAT_MODEL": CHAT_MODEL,
        "BOTGPT_OPENAI_CONTEXT_WINDOW": "2048",  # the peer's echo engine reads 2048
        "BOTGPT_OPENAI_EMBED_MODEL": PEER_EMBED_MODEL,
        "BOTGPT_OPENAI_EMBED_DIMENSION": str(PEER_DIMENSION),
        "BOTGPT_SUMMARY_MEMORY": "false",
    }
    with serving(tmp_path_factory.mktemp("server_a"), env=env) as server:
        server.wait_until("/ready", timeout=120)
        yield server


def wait_ready(client: httpx.Client, document_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        document = client.get(f"/api/v1/documents/{document_id}").json()
        if document["status"] in ("ready", "failed"):
            return dict(document)
        time.sleep(0.2)
    raise TimeoutError(f"document {document_id} never settled")


def test_a_grounded_answer_from_a_peer_botgpt(server_a: Server, peer: Server) -> None:
    with httpx.Client(base_url=server_a.base, timeout=60) as client:
        upload = client.post("/api/v1/documents", files={"file": ("pharos.txt", DOCUMENT.encode(), "text/plain")})
        assert upload.status_code == 201, upload.text
        document = wait_ready(client, upload.json()["document_id"])
        assert document["status"] == "ready", document
        # A's vectors are B's: the embedder's identity names the model and the dimension.
        assert document["embedder"] == f"openai/{PEER_EMBED_MODEL}@{PEER_DIMENSION}"

        asked = client.post(
            "/api/v1/conversations",
            json={"message": "How tall was the Pharos?", "mode": "rag_mode", "document_ids": [document["id"]]},
        )
        assert asked.status_code == 201, asked.text
        answer = asked.json()["assistant_message"]
    # B's echo engine repeats the last user message A sent: A's grounded prompt.
    assert answer["content"].startswith("echo:") and answer["model"] == CHAT_MODEL
    assert answer["prompt_tokens"] > 0 and answer["completion_tokens"] > 0
    citations = answer["citations"]
    assert citations and citations[0]["filename"] == "pharos.txt"
    assert any("100 metres" in citation["snippet"] for citation in citations)
    # B stored nothing: A's calls were stateless chat completions and embeddings.
    assert httpx.get(f"{peer.base}/api/v1/conversations").json()["total"] == 0
