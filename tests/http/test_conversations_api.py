"""The conversation endpoints, their seed-compatible shapes, and their errors."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from quart.typing import TestClientProtocol as Client

from botgpt.domain.errors import ModelFailed, ModelUnavailable
from tests.fakes import ScriptedChatModel
from tests.http.conftest import create

API = "/api/v1/conversations"


async def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, await response.get_data()
    body: dict[str, Any] = await response.get_json()
    assert set(body) == {"error"}
    assert {"code", "message", "request_id"} <= set(body["error"])
    assert "Traceback" not in body["error"]["message"]
    return body["error"]


async def test_create_answers_with_the_seed_shape(client: Client) -> None:
    body = await create(client, message="Explain FastAPI in simple terms", mode="open_chat")

    assert body["conversation_id"] == body["conversation"]["id"]
    assert body["title"] == "Explain FastAPI in simple terms"
    assert body["mode"] == "open_chat"
    for key in ("user_message", "assistant_message"):
        assert {"id", "content", "timestamp", "role", "tokens", "conversation_id"} <= set(body[key])
    assert body["user_message"]["content"] == "Explain FastAPI in simple terms"
    assert body["assistant_message"]["content"] == "answer 1"
    assert body["assistant_message"]["model"] == "scripted"


async def test_continue_then_read_back_in_order(client: Client) -> None:
    cid = (await create(client))["conversation_id"]
    response = await client.post(f"{API}/{cid}/messages", json={"message": "Can you give me a code example?"})
    assert response.status_code == 201
    body = await response.get_json()
    assert body["assistant_message"]["content"] == "answer 2"

    detail = await (await client.get(f"{API}/{cid}")).get_json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant", "user", "assistant"]
    assert detail["conversation"]["message_count"] == 4


async def test_list_pages_by_offset_and_cursor(client: Client) -> None:
    ids = [(await create(client, message=f"topic {i}"))["conversation_id"] for i in range(5)]
    await create(client, user="bob")

    first = await (await client.get(f"{API}?user_id=alice&limit=2")).get_json()
    assert [c["id"] for c in first["conversations"]] == ids[::-1][:2]
    assert (first["total"], first["limit"], first["offset"], first["has_more"]) == (5, 2, 0, True)

    second = await (await client.get(f"{API}?user_id=alice&limit=2&cursor={first['next_cursor']}")).get_json()
    assert [c["id"] for c in second["conversations"]] == ids[::-1][2:4]

    by_offset = await (await client.get(f"{API}?user_id=alice&limit=2&offset=4")).get_json()
    assert [c["id"] for c in by_offset["conversations"]] == [ids[0]]
    assert by_offset["has_more"] is False and by_offset["next_cursor"] is None


async def test_requests_naming_no_user_act_as_the_default_user(client: Client) -> None:
    await create(client)  # alice's
    unnamed = await client.post(API, json={"message": "who am I?"})
    assert (await unnamed.get_json())["conversation"]["user_id"] == "local"
    listing = await (await client.get(API)).get_json()
    assert [c["user_id"] for c in listing["conversations"]] == ["local"]
    assert (await (await client.get(API, headers={"X-User-Id": "local"})).get_json())["total"] == 1
    assert (await (await client.get(f"{API}?user_id=alice")).get_json())["total"] == 1


async def test_user_header_identifies_the_caller(client: Client) -> None:
    await create(client, user="carol")
    body = await (await client.get(API, headers={"X-User-Id": "carol"})).get_json()
    assert body["total"] == 1


async def test_rename(client: Client) -> None:
    cid = (await create(client))["conversation_id"]
    response = await client.patch(f"{API}/{cid}", json={"title": "Bread recipes"})
    assert response.status_code == 200
    assert (await response.get_json())["title"] == "Bread recipes"
    detail = await (await client.get(f"{API}/{cid}")).get_json()
    assert detail["conversation"]["title"] == "Bread recipes"


async def test_delete(client: Client) -> None:
    cid = (await create(client))["conversation_id"]
    response = await client.delete(f"{API}/{cid}")
    assert (await response.get_json()) == {
        "deleted": True,
        "conversation_id": cid,
        "message": "Conversation and all messages deleted successfully",
    }
    await error_of(await client.get(f"{API}/{cid}"), 404)
    await error_of(await client.delete(f"{API}/{cid}"), 404)


async def test_other_users_get_404_on_every_method(client: Client) -> None:
    cid = (await create(client, user="alice"))["conversation_id"]
    as_bob = {"X-User-Id": "bob"}
    await error_of(await client.get(f"{API}/{cid}", headers=as_bob), 404)
    await error_of(await client.get(f"{API}/{cid}?user_id=bob"), 404)
    await error_of(await client.post(f"{API}/{cid}/messages", json={"message": "x", "user_id": "bob"}), 404)
    await error_of(await client.patch(f"{API}/{cid}", json={"title": "x"}, headers=as_bob), 404)
    await error_of(await client.delete(f"{API}/{cid}", headers=as_bob), 404)
    assert (await (await client.get(f"{API}?user_id=bob")).get_json())["total"] == 0
    detail = await (await client.get(f"{API}/{cid}?user_id=alice")).get_json()
    assert detail["conversation"]["title"] == "hello" and len(detail["messages"]) == 2


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"user_id": "alice"}, 422, "validation_error"),
        ({"user_id": "alice", "message": ""}, 422, "invalid_request"),
        ({"user_id": "alice", "message": "   "}, 422, "invalid_request"),
        ({"user_id": "alice", "message": 42}, 422, "validation_error"),
        ({"user_id": "alice", "message": "x" * 2001}, 413, "message_too_large"),
        ({"user_id": "alice", "message": "hi", "mode": "telepathy"}, 422, "validation_error"),
        (
            {"user_id": "alice", "message": "hi", "mode": "rag_mode", "document_ids": ["0" * 32]},
            404,
            "document_not_found",
        ),
        (
            {"user_id": "alice", "message": "hi", "mode": "rag_mode", "document_ids": ["bad"]},
            400,
            "invalid_id",
        ),
        ({"user_id": "alice", "message": "hi", "document_ids": ["0" * 32]}, 422, "invalid_request"),
        ({"user_id": "", "message": "hi"}, 422, "invalid_request"),
    ],
)
async def test_bad_create_bodies_write_nothing(
    client: Client, chat: ScriptedChatModel, body: dict[str, Any], status: int, code: str
) -> None:
    error = await error_of(await client.post(API, json=body), status)
    assert error["code"] == code
    assert chat.prompts == []
    assert (await (await client.get(f"{API}?user_id=alice")).get_json())["total"] == 0


async def test_malformed_json(client: Client) -> None:
    response = await client.post(API, data="{not json", headers={"Content-Type": "application/json"})
    error = await error_of(response, 400)
    assert error["code"] == "malformed_json"


async def test_missing_body(client: Client) -> None:
    error = await error_of(await client.post(API), 422)
    assert "JSON object" in error["message"]


async def test_oversized_body_is_413(client: Client, settings: Any) -> None:
    huge = "x" * (settings.max_request_kb * 1024 + 1)
    error = await error_of(await client.post(API, json={"user_id": "a", "message": huge}), 413)
    assert error["code"] == "payload_too_large"
    limit = settings.max_request_kb
    assert error["message"] == f"the request body is larger than the {limit} KiB limit"


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "limit=abc", "offset=-1", "cursor=garbage", "offset=2&cursor=abc"],
)
async def test_bad_paging_is_422(client: Client, query: str) -> None:
    await error_of(await client.get(f"{API}?user_id=alice&{query}"), 422)


async def test_ids(client: Client) -> None:
    assert (await error_of(await client.get(f"{API}/not-an-id"), 400))["code"] == "invalid_id"
    assert (await error_of(await client.get(f"{API}/{'0' * 32}"), 404))["code"] == "conversation_not_found"
    response = await client.post(f"{API}/{'0' * 32}/messages", json={"message": "hi"})
    await error_of(response, 404)


async def test_unknown_route_and_method(client: Client) -> None:
    assert (await error_of(await client.get("/nope"), 404))["code"] == "not_found"
    assert (await error_of(await client.put(API), 405))["code"] == "method_not_allowed"


async def test_unavailable_model_is_503_with_retry_after_and_stores_nothing(
    client: Client, chat: ScriptedChatModel
) -> None:
    cid = (await create(client))["conversation_id"]
    chat.fail_next(ModelUnavailable("the model is busy", retry_after=3))
    response = await client.post(f"{API}/{cid}/messages", json={"message": "again"})
    error = await error_of(response, 503)
    assert error["code"] == "model_unavailable"
    assert response.headers["Retry-After"] == "3"
    detail = await (await client.get(f"{API}/{cid}")).get_json()
    assert len(detail["messages"]) == 2

    retry = await client.post(f"{API}/{cid}/messages", json={"message": "again"})
    assert retry.status_code == 201
    detail = await (await client.get(f"{API}/{cid}")).get_json()
    assert [m["content"] for m in detail["messages"]][2:] == ["again", "answer 3"]


async def test_failed_model_is_502_and_create_stores_nothing(client: Client, chat: ScriptedChatModel) -> None:
    chat.fail_next(ModelFailed("the provider rejected the request"))
    error = await error_of(await client.post(API, json={"user_id": "alice", "message": "hi"}), 502)
    assert error["code"] == "model_failed"
    assert (await (await client.get(f"{API}?user_id=alice")).get_json())["total"] == 0


async def test_unexpected_fault_is_a_logged_generic_500(
    client: Client, chat: ScriptedChatModel, caplog: pytest.LogCaptureFixture
) -> None:
    chat.fail_next(RuntimeError("secret internal detail at 0xdeadbeef"))
    with caplog.at_level(logging.ERROR):
        response = await client.post(
            API, json={"user_id": "alice", "message": "hi"}, headers={"X-Request-ID": "req-42"}
        )
    error = await error_of(response, 500)
    assert error == {
        "code": "internal_error",
        "message": "an internal error occurred; it has been logged",
        "request_id": "req-42",
    }
    assert "0xdeadbeef" not in (await response.get_data(as_text=True))
    assert any("req-42" in record.getMessage() for record in caplog.records)
    assert response.headers["X-Request-ID"] == "req-42"


async def test_hostile_bodies_and_queries_get_a_4xx_with_the_error_shape(client: Client) -> None:
    nested = "[" * 10_000 + "]" * 10_000
    deep = await client.post(API, data=nested, headers={"Content-Type": "application/json"})
    deep_error = await error_of(deep, 400)
    assert (deep_error["code"], deep_error["message"]) == (
        "malformed_json",
        "the request body nests too deeply to be read as JSON",
    )
    surrogate = await client.post(
        API, data='{"user_id": "alice", "message": "hi \\ud800"}', headers={"Content-Type": "application/json"}
    )
    assert "lone surrogate" in (await error_of(surrogate, 422))["message"]
    for path in (API, "/api/v1/documents", "/api/v1/collections"):
        huge = await client.get(f"{path}?user_id=alice&offset=99999999999999999999")
        assert "offset must be between 0 and" in (await error_of(huge, 422))["message"], path
    assert (await (await client.get(f"{API}?user_id=alice")).get_json())["total"] == 0


async def test_concurrent_turns_never_fork_silently(
    client: Client, chat: ScriptedChatModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = (await create(client))["conversation_id"]
    answer = chat.complete

    async def slow_answer(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.05)  # every turn is prepared before the first one is stored
        return await answer(*args, **kwargs)

    monkeypatch.setattr(chat, "complete", slow_answer)
    posts = [client.post(f"{API}/{cid}/messages", json={"message": f"question {n}"}) for n in range(5)]
    responses = await asyncio.gather(*posts)

    stored = [await r.get_json() for r in responses if r.status_code == 201]
    refused = [await error_of(r, 409) for r in responses if r.status_code != 201]
    assert len(stored) == 1 and len(refused) == 4
    assert {e["code"] for e in refused} == {"turn_conflict"}
    # Every turn that answered 201 is on the visible history; nothing vanished into a branch.
    detail = await (await client.get(f"{API}/{cid}")).get_json()
    visible = {m["id"] for m in detail["messages"]}
    assert {body["assistant_message"]["id"] for body in stored} <= visible
    assert detail["conversation"]["message_count"] == 4

    # Sent again one after another, each turn sees the one before.
    monkeypatch.setattr(chat, "complete", answer)
    again = await client.post(f"{API}/{cid}/messages", json={"message": "question again"})
    assert again.status_code == 201
    assert len((await (await client.get(f"{API}/{cid}")).get_json())["messages"]) == 6


async def test_json_values_must_have_the_documented_type(client: Client) -> None:
    # Lax conversion would read 0 as false; the document says boolean.
    error = await error_of(await client.post(API, json={"message": "hi", "stream": 0}), 422)
    assert error["code"] == "validation_error" and "stream" in error["message"]
    # JSON Schema counts 5.0 as an integer, and so does the server.
    assert (await client.post("/api/v1/search", json={"query": "hi", "k": 5.0})).status_code == 200


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_import_is_not_a_conversation_id(client: Client, method: str) -> None:
    response = await client.open(f"{API}/import", method=method, json={"title": "x"})
    assert (await error_of(response, 405))["code"] == "method_not_allowed"
    allowed = {name.strip() for name in response.headers["Allow"].split(",")}
    assert "POST" in allowed and method not in allowed


LONG = "One two three four five six seven eight nine ten. Eleven twelve."


async def test_sampling_fields_reach_the_model_and_max_tokens_says_length(
    client: Client, chat: ScriptedChatModel
) -> None:
    chat.answer_next(LONG, LONG)
    first = await create(client, max_tokens=5, temperature=1.1, top_p=0.5, seed=3)
    assert first["assistant_message"]["content"] == "One two three four five"
    assert first["assistant_message"]["finish_reason"] == "length"
    options = chat.options[-1]
    assert (options.max_tokens, options.temperature, options.top_p, options.seed) == (5, 1.1, 0.5, 3)

    cid = first["conversation_id"]
    response = await client.post(f"{API}/{cid}/messages", json={"message": "more", "stop": ["."]})
    body = await response.get_json()
    assert body["assistant_message"]["content"] == "One two three four five six seven eight nine ten"
    assert body["assistant_message"]["finish_reason"] == "stop"
    assert chat.options[-1].max_tokens == 256  # the policy's cap: one turn's choices do not stick


async def test_regenerate_takes_the_asked_temperature_over_its_own(client: Client, chat: ScriptedChatModel) -> None:
    cid = (await create(client))["conversation_id"]
    assert (await client.post(f"{API}/{cid}/regenerate", json={})).status_code == 201
    assert chat.options[-1].temperature == 0.8  # regenerate_temperature
    response = await client.post(f"{API}/{cid}/regenerate", json={"temperature": 0.0, "max_tokens": 2})
    assert response.status_code == 201
    assert (chat.options[-1].temperature, chat.options[-1].max_tokens) == (0.0, 2)


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_tokens", 0), ("temperature", 2.5), ("top_p", 0), ("stop", ["a", "b", "c", "d", "e"]), ("stop", "")],
)
async def test_out_of_range_sampling_is_422_naming_the_field(client: Client, field: str, value: Any) -> None:
    response = await client.post(API, json={"message": "hi", field: value})
    error = await error_of(response, 422)
    assert field in error["message"]
    listed = await (await client.get(API)).get_json()
    assert listed["conversations"] == []
