"""API keys, exhaustive isolation between two users, per-key limits and usage."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client
from werkzeug.datastructures import FileStorage

from botgpt.domain.keys import KeyService
from botgpt.entrypoints.container import Container
from botgpt.entrypoints.core import provided

API = "/api/v1/conversations"
DOCS = "/api/v1/documents"
TEXT = b"Lighthouse keepers trimmed the wicks every evening. The Fresnel lens focused the light."


async def key_for(container: Container, user: str, **limits: Any) -> dict[str, str]:
    keys: KeyService = await provided(container.keys)
    created = await keys.create(user, **limits)
    return {"Authorization": f"Bearer {created.secret}"}


async def owned_resources(client: Client, auth: dict[str, str]) -> tuple[str, str]:
    conversation = await (await client.post(API, json={"message": "hello"}, headers=auth)).get_json()
    files = {"file": FileStorage(io.BytesIO(TEXT), filename="light.txt")}
    upload = await client.post(DOCS, files=files, headers=auth)
    document_id = (await upload.get_json())["id"]
    for _ in range(200):
        if (await (await client.get(f"{DOCS}/{document_id}", headers=auth)).get_json())["status"] == "ready":
            break
        await asyncio.sleep(0.02)
    return conversation["conversation_id"], document_id


async def test_keys_are_required_once_one_exists(app: Quart, client: Client, container: Container) -> None:
    assert (await client.get(f"{API}?user_id=alice")).status_code == 200  # open mode
    auth = await key_for(container, "alice")
    denied = await client.get(f"{API}?user_id=alice")
    assert denied.status_code == 401 and denied.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await denied.get_json())["error"]["code"] == "unauthorized"
    wrong = {"Authorization": auth["Authorization"][:-4] + "abcd"}
    assert (await client.get(API, headers=wrong)).status_code == 401
    assert (await client.get(API, headers={"Authorization": "Basic xyz"})).status_code == 401
    assert (await client.get("/health")).status_code == 200
    for path in (DOCS, "/api/v1/usage"):
        assert (await client.get(path)).status_code == 401, path
    assert (await client.get(API, headers=auth)).status_code == 200


async def test_a_revoked_key_stops_working(client: Client, container: Container) -> None:
    auth = await key_for(container, "alice")
    other = await key_for(container, "alice")
    keys: KeyService = await provided(container.keys)
    await keys.revoke(auth["Authorization"].split("_")[1])
    assert (await client.get(API, headers=auth)).status_code == 401
    assert (await client.get(API, headers=other)).status_code == 200


async def test_the_seed_user_id_must_match_the_key(client: Client, container: Container) -> None:
    auth = await key_for(container, "alice")
    created = await client.post(API, json={"user_id": "alice", "message": "hi"}, headers=auth)
    assert created.status_code == 201 and (await created.get_json())["conversation"]["user_id"] == "alice"
    implicit = await client.post(API, json={"message": "hi"}, headers=auth)
    assert (await implicit.get_json())["conversation"]["user_id"] == "alice"
    forged = await client.post(API, json={"user_id": "bob", "message": "hi"}, headers=auth)
    assert forged.status_code == 403 and (await forged.get_json())["error"]["code"] == "forbidden"
    assert (await client.get(f"{API}?user_id=bob", headers=auth)).status_code == 403
    assert (await client.get(API, headers=auth | {"X-User-Id": "bob"})).status_code == 403


@pytest.mark.parametrize(("owner", "intruder"), [("alice", "bob"), ("bob", "alice")])
async def test_isolation_on_every_endpoint(client: Client, container: Container, owner: str, intruder: str) -> None:
    mine, theirs = await key_for(container, owner), await key_for(container, intruder)
    conversation_id, document_id = await owned_resources(client, mine)

    as_intruder: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"{API}/{conversation_id}", {}),
        ("POST", f"{API}/{conversation_id}/messages", {"json": {"message": "let me in"}}),
        ("POST", f"{API}/{conversation_id}/messages", {"json": {"message": "let me in", "stream": True}}),
        ("PATCH", f"{API}/{conversation_id}", {"json": {"title": "mine now"}}),
        ("DELETE", f"{API}/{conversation_id}", {}),
        ("GET", f"{DOCS}/{document_id}", {}),
        ("DELETE", f"{DOCS}/{document_id}", {}),
        ("POST", "/api/v1/search", {"json": {"query": "wicks", "document_ids": [document_id]}}),
        ("POST", API, {"json": {"user_id": "", "message": "q", "mode": "rag_mode", "document_ids": [document_id]}}),
    ]
    for method, path, extra in as_intruder:
        response = await client.open(path, method=method, headers=theirs, **extra)
        assert response.status_code == 404, (method, path, await response.get_data())
    for path in (API, DOCS, "/api/v1/usage"):
        assert (await client.get(f"{path}?user_id={owner}", headers=theirs)).status_code == 403, path
    listing = await (await client.get(API, headers=theirs)).get_json()
    assert conversation_id not in {c["id"] for c in listing["conversations"]}
    assert (await (await client.get(DOCS, headers=theirs)).get_json())["total"] == 0
    forged_upload = await client.post(
        DOCS,
        form={"user_id": owner},
        files={"file": FileStorage(io.BytesIO(b"x y z"), filename="x.txt")},
        headers=theirs,
    )
    assert forged_upload.status_code == 403

    # The owner's data is untouched.
    detail = await (await client.get(f"{API}/{conversation_id}", headers=mine)).get_json()
    assert detail["conversation"]["title"] == "hello" and len(detail["messages"]) == 2
    assert (await (await client.get(f"{DOCS}/{document_id}", headers=mine)).get_json())["status"] == "ready"


async def test_requests_per_minute_limit(client: Client, container: Container) -> None:
    auth = await key_for(container, "alice", requests_per_minute=3)
    statuses = [(await client.post(API, json={"message": "hi"}, headers=auth)).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    limited = await client.post(API, json={"message": "hi"}, headers=auth)
    assert (await limited.get_json())["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


async def test_tokens_per_day_limit_blocks_model_calls_only(client: Client, container: Container) -> None:
    auth = await key_for(container, "alice", tokens_per_day=5)
    first = await client.post(API, json={"message": "one two three four five six"}, headers=auth)
    assert first.status_code == 201
    second = await client.post(API, json={"message": "again"}, headers=auth)
    assert second.status_code == 429 and int(second.headers["Retry-After"]) > 0
    assert (await client.get(API, headers=auth)).status_code == 200


async def test_usage_totals_per_user_and_conversation(client: Client, container: Container) -> None:
    auth = await key_for(container, "alice")
    first = await (await client.post(API, json={"message": "one two"}, headers=auth)).get_json()
    cid = first["conversation_id"]
    second = await (await client.post(f"{API}/{cid}/messages", json={"message": "three"}, headers=auth)).get_json()
    other = await (await client.post(API, json={"message": "solo"}, headers=auth)).get_json()
    answers = [first["assistant_message"], second["assistant_message"], other["assistant_message"]]

    usage = await (await client.get("/api/v1/usage", headers=auth)).get_json()
    assert usage["user_id"] == "alice"
    assert usage["totals"]["requests"] == 3
    assert usage["totals"]["prompt_tokens"] == sum(a["prompt_tokens"] for a in answers)
    assert usage["totals"]["completion_tokens"] == sum(a["completion_tokens"] for a in answers)
    per_conversation = {c["conversation_id"]: c for c in usage["conversations"]}
    assert per_conversation[cid]["prompt_tokens"] == answers[0]["prompt_tokens"] + answers[1]["prompt_tokens"]

    await client.delete(f"{API}/{cid}", headers=auth)
    after = await (await client.get("/api/v1/usage", headers=auth)).get_json()
    assert after["totals"] == usage["totals"]  # spent is spent
    assert cid not in {c["conversation_id"] for c in after["conversations"]}
