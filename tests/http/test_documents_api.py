"""Documents, search and grounded conversations over HTTP."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import pytest
from quart.typing import TestClientProtocol as Client
from werkzeug.datastructures import FileStorage

from tests.http.test_conversations_api import error_of
from tests.unit.test_documents import docx_bytes

DOCS = "/api/v1/documents"
TEXT = (
    b"Lighthouses guide ships at night. The Fresnel lens made their light visible far away.\n"
    b"Keepers lived in small houses next to the tower. Automation replaced most keepers by 1990.\n"
)


def minimal_pdf(text: str) -> bytes:
    stream = f"BT /F1 18 Tf 10 100 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 144] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


async def upload(client: Client, data: bytes, name: str = "lighthouses.txt", user: str = "alice") -> Any:
    files = {"file": FileStorage(io.BytesIO(data), filename=name)}
    return await client.post(DOCS, form={"user_id": user}, files=files)


async def ready(client: Client, document_id: str) -> dict[str, Any]:
    for _ in range(200):
        body: dict[str, Any] = await (await client.get(f"{DOCS}/{document_id}")).get_json()
        if body["status"] in ("ready", "failed"):
            return body
        await asyncio.sleep(0.02)
    raise AssertionError(f"document stayed {body['status']}")


async def uploaded(client: Client, data: bytes = TEXT, name: str = "lighthouses.txt") -> str:
    response = await upload(client, data, name)
    assert response.status_code == 201, await response.get_data()
    document_id: str = (await response.get_json())["document_id"]
    assert (await ready(client, document_id))["status"] == "ready"
    return document_id


async def test_upload_answers_at_once_then_ingests(client: Client) -> None:
    response = await upload(client, TEXT)
    assert response.status_code == 201
    body = await response.get_json()
    assert body["status"] in ("pending", "processing", "ready")
    assert body["filename"] == "lighthouses.txt" and body["file_size"] == len(TEXT)
    assert body["duplicate"] is False

    done = await ready(client, body["document_id"])
    assert done["status"] == "ready" and done["is_vectorized"] is True
    assert done["progress"]["chunks_embedded"] == done["progress"]["chunks_total"] == done["chunk_count"] > 0


async def test_duplicate_upload_returns_the_existing_document(client: Client) -> None:
    document_id = await uploaded(client)
    again = await upload(client, TEXT, "renamed.txt")
    assert again.status_code == 200
    body = await again.get_json()
    assert body["duplicate"] is True and body["document_id"] == document_id


async def test_pdf_and_docx_are_ingested(client: Client) -> None:
    pdf = await uploaded(client, minimal_pdf("Lighthouse keepers trimmed the wicks"), "keepers.pdf")
    docx = await uploaded(client, docx_bytes(["Fog horns warned ships.", "Keepers polished lenses."]), "fog.docx")
    response = await client.post(
        "/api/v1/search", json={"user_id": "alice", "query": "wicks", "document_ids": [pdf, docx], "k": 1}
    )
    hit = (await response.get_json())["results"][0]
    assert hit["document_id"] == pdf and "wicks" in hit["text"]


async def test_list_get_delete_and_owner_scoping(client: Client) -> None:
    document_id = await uploaded(client)
    listing = await (await client.get(f"{DOCS}?user_id=alice")).get_json()
    assert listing["total"] == 1 and listing["documents"][0]["id"] == document_id
    assert (await (await client.get(f"{DOCS}?user_id=bob")).get_json())["total"] == 0
    await error_of(await client.get(f"{DOCS}/{document_id}?user_id=bob"), 404)
    await error_of(await client.delete(f"{DOCS}/{document_id}?user_id=bob"), 404)

    deleted = await client.delete(f"{DOCS}/{document_id}?user_id=alice")
    assert (await deleted.get_json())["deleted"] is True
    await error_of(await client.get(f"{DOCS}/{document_id}"), 404)


async def test_bad_uploads(client: Client) -> None:
    assert (await error_of(await upload(client, b"\x7fELF\x02\x01", "tool.txt"), 415))["code"] == "unsupported_document"
    assert (await error_of(await upload(client, b"x", "image.png"), 415))["code"] == "unsupported_document"
    assert (await error_of(await upload(client, b"", "empty.txt"), 422))["code"] == "unreadable_document"
    assert (await error_of(await upload(client, TEXT, "../../etc/cron.txt"), 422))["code"] == "invalid_request"
    too_big = await upload(client, b"a" * ((1 << 20) + (128 << 10)), "big.txt")
    await error_of(too_big, 413)
    no_file = await client.post(DOCS, form={"user_id": "alice"})
    await error_of(no_file, 422)
    blank_user = await client.post(
        DOCS, form={"user_id": " "}, files={"file": FileStorage(io.BytesIO(TEXT), filename="a.txt")}
    )
    await error_of(blank_user, 422)
    assert (await (await client.get(f"{DOCS}?user_id=alice")).get_json())["total"] == 0


async def test_search_with_explain(client: Client) -> None:
    document_id = await uploaded(client)
    response = await client.post(
        "/api/v1/search",
        json={
            "user_id": "alice",
            "query": "Fresnel lens",
            "document_ids": [document_id],
            "k": 2,
            "explain": True,
        },
    )
    body = await response.get_json()
    assert body["retriever"] == "hybrid"
    first = body["results"][0]
    assert "Fresnel" in first["text"] and set(first["ranks"]) <= {"dense", "bm25"}
    assert TEXT.decode()[first["start"] : first["end"]] == first["text"]
    plain = await client.post(
        "/api/v1/search", json={"user_id": "alice", "query": "Fresnel", "document_ids": [document_id]}
    )
    assert (await plain.get_json())["results"][0]["ranks"] is None


async def test_rag_conversation_carries_citations(client: Client, chat: Any) -> None:
    document_id = await uploaded(client)
    # No [n] markers: the answer lists the sources that the check finds supporting it.
    chat.answer_next("The Fresnel lens made the light visible far away.")
    response = await client.post(
        "/api/v1/conversations",
        json={
            "user_id": "alice",
            "message": "What is the Fresnel lens?",
            "mode": "rag_mode",
            "document_ids": [document_id],
        },
    )
    assert response.status_code == 201, await response.get_data()
    citations = (await response.get_json())["assistant_message"]["citations"]
    assert citations and {c["document_id"] for c in citations} == {document_id}
    assert {"filename", "chunk_id", "start", "end", "score", "snippet"} <= set(citations[0])
    assert all(0 <= c["score"] <= 1 and c["supported"] for c in citations)
    detail = await (
        await client.get(f"/api/v1/conversations/{(await response.get_json())['conversation_id']}")
    ).get_json()
    assert detail["messages"][1]["citations"] == citations


async def rag_turn(client: Client, document_id: str, stream: bool = False) -> Any:
    body = {"user_id": "alice", "message": "What did the lens do?", "mode": "rag_mode", "document_ids": [document_id]}
    response = await client.post("/api/v1/conversations", json={**body, "stream": stream})
    assert response.status_code in (200, 201), await response.get_data()
    if not stream:
        return (await response.get_json())["assistant_message"]
    text = (await response.get_data()).decode()
    done = text.split("event: done\ndata: ", 1)[1].split("\n", 1)[0]
    return json.loads(done)["assistant_message"]


async def test_an_answer_without_markers_that_no_source_supports_lists_none(client: Client, chat: Any) -> None:
    document_id = await uploaded(client)
    chat.answer_next("Keepers baked sourdough bread every morning.")
    assert (await rag_turn(client, document_id))["citations"] == []


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
async def test_each_citation_says_whether_its_passage_supports_the_sentence(
    client: Client, chat: Any, stream: bool
) -> None:
    document_id = await uploaded(client)
    chat.answer_next("The Fresnel lens made the light visible far away [1].", "Keepers baked sourdough with yeast [1].")
    supported = (await rag_turn(client, document_id, stream))["citations"][0]
    unsupported = (await rag_turn(client, document_id, stream))["citations"][0]
    assert supported["supported"] is True and supported["support"] >= 0.52
    assert unsupported["supported"] is False and 0 <= unsupported["support"] < 0.52


async def test_rag_on_a_document_not_ready_is_409_with_its_status(client: Client, embedder: Any) -> None:
    from botgpt.domain.errors import EmbedderError

    embedder.fail_next(*[EmbedderError("down", transient=False)])
    failed = (await (await upload(client, TEXT)).get_json())["document_id"]
    assert (await ready(client, failed))["status"] == "failed"
    response = await client.post(
        "/api/v1/conversations",
        json={"user_id": "alice", "message": "hi", "mode": "rag_mode", "document_ids": [failed]},
    )
    error = await error_of(response, 409)
    assert (error["code"], error["status"], error["document_id"]) == ("document_not_ready", "failed", failed)
