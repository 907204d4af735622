"""Regenerate, edit, siblings, branch switching, export and import over HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from quart.typing import TestClientProtocol as Client

from botgpt.entrypoints.container import Container
from tests.fakes import ScriptedChatModel
from tests.http.conftest import create
from tests.http.test_conversations_api import error_of
from tests.http.test_keys_and_isolation import key_for, owned_resources

API = "/api/v1/conversations"


async def body(response: Any, status: int) -> Any:
    assert response.status_code == status, await response.get_data()
    return await response.get_json()


async def three_turns(client: Client) -> tuple[str, dict[str, Any]]:
    first = await create(client, message="first question")
    cid = first["conversation_id"]
    await body(await client.post(f"{API}/{cid}/messages", json={"message": "second question"}), 201)
    return cid, first


async def test_a_client_that_never_branches_sees_the_seed_shape(client: Client) -> None:
    cid, first = await three_turns(client)
    detail = await body(await client.get(f"{API}/{cid}"), 200)
    messages = detail["messages"]
    assert [m["content"] for m in messages] == ["first question", "answer 1", "second question", "answer 2"]
    assert [m["parent_id"] for m in messages] == [None, *(m["id"] for m in messages[:-1])]
    assert detail["conversation"]["active_leaf_id"] == messages[-1]["id"]
    assert first["user_message"]["parent_id"] is None


async def test_regenerate_edit_siblings_and_switch(client: Client) -> None:
    cid, first = await three_turns(client)
    again = await body(await client.post(f"{API}/{cid}/regenerate", json={}), 201)
    assert again["user_message"]["content"] == "second question"
    assert again["assistant_message"]["content"] == "answer 3"
    detail = await body(await client.get(f"{API}/{cid}"), 200)
    assert [m["content"] for m in detail["messages"]][-1] == "answer 3"

    alternatives = await body(
        await client.get(f"{API}/{cid}/messages/{again['assistant_message']['id']}/siblings"), 200
    )
    assert [m["content"] for m in alternatives["messages"]] == ["answer 2", "answer 3"]
    assert alternatives["active_id"] == again["assistant_message"]["id"]

    parent = first["assistant_message"]["id"]
    edited = await body(
        await client.post(f"{API}/{cid}/messages", json={"message": "edited", "parent_id": parent}), 201
    )
    assert edited["user_message"]["parent_id"] == parent
    detail = await body(await client.get(f"{API}/{cid}"), 200)
    assert [m["content"] for m in detail["messages"]] == ["first question", "answer 1", "edited", "answer 4"]

    old_answer = alternatives["messages"][0]["id"]
    switched = await body(await client.put(f"{API}/{cid}/active", json={"message_id": old_answer}), 200)
    assert [m["content"] for m in switched["messages"]] == ["first question", "answer 1", "second question", "answer 2"]
    assert switched["conversation"]["active_leaf_id"] == old_answer
    assert (await body(await client.get(f"{API}/{cid}"), 200))["messages"] == switched["messages"]


async def test_regenerate_streams(client: Client) -> None:
    cid, _ = await three_turns(client)
    response = await client.post(f"{API}/{cid}/regenerate", json={"stream": True})
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    text = (await response.get_data()).decode()
    assert "event: delta" in text and "event: done" in text
    done = json.loads(text.split("event: done\ndata: ")[1].split("\n")[0])
    assert done["assistant_message"]["content"] == "answer 3"


async def test_bad_branch_requests(client: Client) -> None:
    cid, first = await three_turns(client)
    other = await create(client, message="another conversation")
    foreign = other["assistant_message"]["id"]
    await error_of(await client.post(f"{API}/{cid}/messages", json={"message": "x", "parent_id": foreign}), 404)
    await error_of(await client.get(f"{API}/{cid}/messages/{foreign}/siblings"), 404)
    await error_of(await client.put(f"{API}/{cid}/active", json={"message_id": foreign}), 404)
    user_parent = {"message": "x", "parent_id": first["user_message"]["id"]}
    await error_of(await client.post(f"{API}/{cid}/messages", json=user_parent), 422)
    await error_of(await client.put(f"{API}/{cid}/active", json={}), 422)
    await error_of(await client.post(f"{API}/{'0' * 32}/regenerate", json={}), 404)


async def test_regenerate_with_no_user_message_is_409(client: Client) -> None:
    exported = {"format": "botgpt.conversation", "version": 1, "messages": [],
                "conversation": {"title": "empty", "mode": "open_chat", "created_at": "2026-01-01T00:00:00Z",
                                 "updated_at": "2026-01-01T00:00:00Z"}}  # fmt: skip
    imported = await body(await client.post(f"{API}/import?user_id=alice", json=exported), 201)
    error = await error_of(await client.post(f"{API}/{imported['conversation']['id']}/regenerate", json={}), 409)
    assert error["code"] == "nothing_to_regenerate"


async def test_a_failed_regenerate_stores_nothing(client: Client, chat: ScriptedChatModel) -> None:
    from botgpt.domain.errors import ModelUnavailable

    cid, _ = await three_turns(client)
    chat.fail_next(ModelUnavailable("busy", retry_after=1))
    await error_of(await client.post(f"{API}/{cid}/regenerate", json={}), 503)
    detail = await body(await client.get(f"{API}/{cid}"), 200)
    assert detail["conversation"]["message_count"] == 4


async def test_export_json_holds_the_tree_and_import_gives_it_back(client: Client) -> None:
    cid, _ = await three_turns(client)
    await body(await client.post(f"{API}/{cid}/regenerate", json={}), 201)
    exported = await body(await client.get(f"{API}/{cid}/export"), 200)
    assert exported["format"] == "botgpt.conversation" and exported["version"] == 1
    assert len(exported["messages"]) == 5
    assert all({"tokens", "citations", "parent_id", "prompt_tokens"} <= set(m) for m in exported["messages"])

    imported = await body(await client.post(f"{API}/import?user_id=bob", json=exported), 201)
    new_id = imported["conversation"]["id"]
    assert new_id != cid and imported["conversation"]["user_id"] == "bob"
    assert [m["content"] for m in imported["messages"]] == ["first question", "answer 1", "second question", "answer 3"]
    again = await body(await client.get(f"{API}/{new_id}/export?user_id=bob"), 200)
    old_ids = {m["id"] for m in exported["messages"]}
    assert old_ids.isdisjoint(m["id"] for m in again["messages"])
    # the imported conversation goes on like any other
    await body(await client.post(f"{API}/{new_id}/messages", json={"message": "more", "user_id": "bob"}), 201)


async def test_export_markdown_is_the_active_branch(client: Client) -> None:
    cid, _ = await three_turns(client)
    await body(await client.post(f"{API}/{cid}/regenerate", json={}), 201)
    response = await client.get(f"{API}/{cid}/export?format=markdown")
    assert response.status_code == 200 and response.mimetype == "text/markdown"
    text = (await response.get_data()).decode()
    assert text.startswith("# first question")
    assert "answer 3" in text and "answer 2" not in text
    await error_of(await client.get(f"{API}/{cid}/export?format=pdf"), 422)


def valid_export() -> dict[str, Any]:
    return {
        "format": "botgpt.conversation", "version": 1,
        "conversation": {"title": "t", "mode": "open_chat", "created_at": "2026-01-01T00:00:00Z",
                         "updated_at": "2026-01-01T00:00:00Z"},
        "messages": [
            {"id": "a", "role": "user", "content": "hi", "created_at": "2026-01-01T00:00:00Z"},
            {"id": "b", "parent_id": "a", "role": "assistant", "content": "hello",
             "created_at": "2026-01-01T00:00:01Z"},
        ],
    }  # fmt: skip


def broken(change: str) -> Any:
    document = valid_export()
    if change == "collide":
        document["messages"][1]["id"] = "a"
    elif change == "orphan":
        document["messages"][1]["parent_id"] = "zzz"
    elif change == "cycle":
        document["messages"][0]["parent_id"] = "b"
    elif change == "role":
        document["messages"][0]["role"] = "system"
    elif change == "shape":
        document["messages"] = "not a list"
    elif change == "version":
        document["version"] = 99
    elif change == "leaf":
        document["conversation"]["active_leaf_id"] = "nope"
    elif change == "negative":
        document["messages"][0]["tokens"] = -3
    elif change == "empty":
        document["messages"][1]["content"] = "  "
    elif change == "title":
        document["conversation"]["title"] = "t" * 201
    return document


CHANGES = ["collide", "orphan", "cycle", "role", "shape", "version", "leaf", "negative", "empty", "title"]


@pytest.mark.parametrize("change", CHANGES)
async def test_bad_imports_are_4xx_and_store_nothing(client: Client, change: str) -> None:
    response = await client.post(f"{API}/import?user_id=alice", json=broken(change))
    assert 400 <= response.status_code < 500, change
    await error_of(response, response.status_code)
    assert (await body(await client.get(f"{API}?user_id=alice"), 200))["total"] == 0


async def test_imports_that_are_not_json_or_too_large(client: Client, container: Container) -> None:
    not_json = await client.post(
        f"{API}/import?user_id=alice", data="{nope", headers={"Content-Type": "application/json"}
    )
    await error_of(not_json, 400)
    limit = container.settings().max_import_mb << 20
    huge = valid_export()
    huge["messages"][1]["content"] = "x" * (limit + 1)
    await error_of(await client.post(f"{API}/import?user_id=alice", json=huge), 413)
    assert (await body(await client.get(f"{API}?user_id=alice"), 200))["total"] == 0
    # the import limit is its own: above the general JSON limit, it still works
    big = valid_export()
    big["messages"][1]["content"] = "y" * ((container.settings().max_request_kb + 1) * 1024)
    await body(await client.post(f"{API}/import?user_id=alice", json=big), 201)


async def test_an_import_recounts_tokens_and_keeps_only_the_callers_documents(
    client: Client, container: Container, chat: ScriptedChatModel
) -> None:
    alice, bob = await key_for(container, "alice"), await key_for(container, "bob")
    _, document_id = await owned_resources(client, alice)
    chat.answer_next("The keepers trimmed the wicks [1].")
    rag = {"message": "Who trimmed the wicks?", "mode": "rag_mode", "document_ids": [document_id]}
    created = await body(await client.post(API, json=rag, headers=alice), 201)
    exported = await body(await client.get(f"{API}/{created['conversation_id']}/export", headers=alice), 200)
    assert exported["messages"][1]["citations"][0]["document_id"] == document_id
    exported["messages"][0]["tokens"] = 9999  # a file's counts are not trusted

    theirs = await body(await client.post(f"{API}/import", json=exported, headers=bob), 201)
    assert theirs["conversation"]["document_ids"] == []
    assert theirs["messages"][0]["tokens"] == created["user_message"]["tokens"]
    assert theirs["conversation"]["total_tokens"] == created["conversation"]["total_tokens"]
    mine = await body(await client.post(f"{API}/import", json=exported, headers=alice), 201)
    assert mine["conversation"]["document_ids"] == [document_id]
    markdown = await client.get(f"{API}/{mine['conversation']['id']}/export?format=markdown", headers=alice)
    assert "[^1]: light.txt, characters" in (await markdown.get_data()).decode()


@pytest.mark.parametrize(("owner", "intruder"), [("alice", "bob"), ("bob", "alice")])
async def test_isolation_on_every_branch_endpoint(
    client: Client, container: Container, owner: str, intruder: str
) -> None:
    mine, theirs = await key_for(container, owner), await key_for(container, intruder)
    created = await body(await client.post(API, json={"message": "private"}, headers=mine), 201)
    cid, answer = created["conversation_id"], created["assistant_message"]["id"]
    probes = [
        client.post(f"{API}/{cid}/regenerate", json={}, headers=theirs),
        client.post(f"{API}/{cid}/messages", json={"message": "x", "parent_id": answer}, headers=theirs),
        client.get(f"{API}/{cid}/messages/{answer}/siblings", headers=theirs),
        client.put(f"{API}/{cid}/active", json={"message_id": answer}, headers=theirs),
        client.get(f"{API}/{cid}/export", headers=theirs),
        client.get(f"{API}/{cid}/export?format=markdown", headers=theirs),
    ]
    for probe in probes:
        await error_of(await probe, 404)
    # an intruder's own conversation cannot take the owner's message as a parent
    own = await body(await client.post(API, json={"message": "theirs"}, headers=theirs), 201)
    forged = {"message": "x", "parent_id": answer}
    await error_of(await client.post(f"{API}/{own['conversation_id']}/messages", json=forged, headers=theirs), 404)
    # importing names the caller, never someone else
    await error_of(await client.post(f"{API}/import?user_id={owner}", json=valid_export(), headers=theirs), 403)
    imported = await body(await client.post(f"{API}/import", json=valid_export(), headers=theirs), 201)
    assert imported["conversation"]["user_id"] == intruder
    detail = await body(await client.get(f"{API}/{cid}", headers=mine), 200)
    assert len(detail["messages"]) == 2 and detail["conversation"]["message_count"] == 2


async def test_the_openapi_document_describes_the_new_endpoints(client: Client) -> None:
    spec = await body(await client.get("/openapi.json"), 200)
    paths = spec["paths"]
    assert "post" in paths["/api/v1/conversations/{conversation_id}/regenerate"]
    assert "get" in paths["/api/v1/conversations/{conversation_id}/messages/{message_id}/siblings"]
    assert "put" in paths["/api/v1/conversations/{conversation_id}/active"]
    assert "get" in paths["/api/v1/conversations/{conversation_id}/export"]
    assert "post" in paths["/api/v1/conversations/import"]
    schemas = spec["components"]["schemas"]
    post_message = json.dumps(paths["/api/v1/conversations/{conversation_id}/messages"]["post"])
    assert "parent_id" in post_message + json.dumps(schemas.get("PostMessageIn", {}))
    export = json.dumps(paths["/api/v1/conversations/{conversation_id}/export"]["get"])
    assert "ConversationExport" in export and "ExportedMessage" in schemas
