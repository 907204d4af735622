"""Knowledge bases over HTTP: collections, attributes, and searches and RAG over any scope."""

from __future__ import annotations

import io
import json
from typing import Any

import openai
import pytest
from quart.typing import TestClientProtocol as Client
from werkzeug.datastructures import FileStorage

from tests.fakes import ScriptedChatModel
from tests.http.test_conversations_api import error_of
from tests.http.test_documents_api import DOCS, ready

COLLECTIONS = "/api/v1/collections"
SEARCH = "/api/v1/search"
HANDBOOK = b"Employees accrue holiday leave every month. Parental leave lasts sixteen weeks."
WIKI = b"The build server compiles the project nightly. Deployments happen on Tuesdays."
MENU = b"The canteen serves soup at noon. Friday is pizza day in the canteen."


async def new_collection(client: Client, name: str = "HR handbook", user: str = "alice") -> dict[str, Any]:
    response = await client.post(COLLECTIONS, json={"user_id": user, "name": name, "description": "policies"})
    assert response.status_code == 201, await response.get_data()
    body: dict[str, Any] = await response.get_json()
    return body


async def upload_into(
    client: Client,
    data: bytes,
    name: str,
    collection_id: str | None = None,
    attributes: dict[str, Any] | None = None,
    user: str = "alice",
) -> str:
    form = {"user_id": user}
    if collection_id:
        form["collection_id"] = collection_id
    if attributes is not None:
        form["attributes"] = json.dumps(attributes)
    files = {"file": FileStorage(io.BytesIO(data), filename=name)}
    response = await client.post(DOCS, form=form, files=files)
    assert response.status_code == 201, await response.get_data()
    document_id: str = (await response.get_json())["document_id"]
    assert (await ready(client, document_id))["status"] == "ready"
    return document_id


async def search(client: Client, query: str, **scope: Any) -> list[dict[str, Any]]:
    response = await client.post(SEARCH, json={"user_id": "alice", "query": query, "k": 10, **scope})
    assert response.status_code == 200, await response.get_data()
    results: list[dict[str, Any]] = (await response.get_json())["results"]
    return results


def documents_of(results: list[dict[str, Any]]) -> set[str]:
    return {hit["document_id"] for hit in results}


async def test_collections_are_created_listed_renamed_and_private(client: Client) -> None:
    first = await new_collection(client)
    second = await new_collection(client, "Wiki")
    assert first["document_counts"] == {"total": 0, "pending": 0, "processing": 0, "ready": 0, "failed": 0}
    listing = await (await client.get(f"{COLLECTIONS}?user_id=alice&limit=1")).get_json()
    assert [c["id"] for c in listing["collections"]] == [second["id"]]
    assert listing["total"] == 2 and listing["has_more"] is True
    renamed = await client.patch(f"{COLLECTIONS}/{first['id']}", json={"user_id": "alice", "name": "People"})
    assert (await renamed.get_json())["name"] == "People"
    assert (await renamed.get_json())["description"] == "policies"
    for response in (
        await client.get(f"{COLLECTIONS}/{first['id']}?user_id=bob"),
        await client.patch(f"{COLLECTIONS}/{first['id']}", json={"user_id": "bob", "name": "mine"}),
        await client.delete(f"{COLLECTIONS}/{first['id']}?user_id=bob"),
        await client.post(
            f"{COLLECTIONS}/{first['id']}/documents", json={"user_id": "bob", "document_ids": ["0" * 32]}
        ),
    ):
        assert (await error_of(response, 404))["code"] == "collection_not_found"
    assert (await error_of(await client.get(f"{COLLECTIONS}/nope?user_id=alice"), 400))["code"] == "invalid_id"
    blank = await client.post(COLLECTIONS, json={"user_id": "alice", "name": "   "})
    assert (await error_of(blank, 422))["code"] == "invalid_request"


async def test_uploads_join_a_collection_with_attributes_and_counts_follow(client: Client) -> None:
    handbook = await new_collection(client)
    document_id = await upload_into(client, HANDBOOK, "leave.txt", handbook["id"], {"year": 2025, "draft": False})
    body = await (await client.get(f"{DOCS}/{document_id}?user_id=alice")).get_json()
    assert body["attributes"] == {"year": 2025, "draft": False}
    counts = (await (await client.get(f"{COLLECTIONS}/{handbook['id']}?user_id=alice")).get_json())["document_counts"]
    assert counts["total"] == counts["ready"] == 1
    members = await (await client.get(f"{COLLECTIONS}/{handbook['id']}/documents?user_id=alice")).get_json()
    assert [d["document_id"] for d in members["documents"]] == [document_id]
    bad = await client.post(
        DOCS,
        form={"user_id": "alice", "attributes": json.dumps({"k": [1]})},
        files={"file": FileStorage(io.BytesIO(WIKI), filename="w.txt")},
    )
    assert "attribute 'k'" in (await error_of(bad, 422))["message"]
    foreign = await client.post(
        DOCS,
        form={"user_id": "bob", "collection_id": handbook["id"]},
        files={"file": FileStorage(io.BytesIO(WIKI), filename="w.txt")},
    )
    await error_of(foreign, 404)


async def test_search_without_scope_covers_all_ready_documents_of_the_caller(client: Client) -> None:
    handbook = await upload_into(client, HANDBOOK, "leave.txt")
    wiki = await upload_into(client, WIKI, "build.txt")
    await upload_into(client, MENU, "menu.txt", user="bob")
    results = await search(client, "leave deployments canteen")
    assert documents_of(results) == {handbook, wiki}
    assert {hit["filename"] for hit in results} == {"leave.txt", "build.txt"}


async def test_scopes_narrow_by_collections_documents_and_filters(client: Client) -> None:
    hr, it = await new_collection(client), await new_collection(client, "IT")
    handbook = await upload_into(client, HANDBOOK, "leave.txt", hr["id"], {"year": 2025, "team": "hr"})
    wiki = await upload_into(client, WIKI, "build.txt", it["id"], {"year": 2023, "team": "it"})
    menu = await upload_into(client, MENU, "menu.txt", None, {"year": 2025, "team": "facilities"})
    query = "leave deployments canteen pizza"
    assert documents_of(await search(client, query, collection_ids=[hr["id"]])) == {handbook}
    assert documents_of(await search(client, query, collection_ids=[hr["id"]], document_ids=[menu])) == {
        handbook,
        menu,
    }
    newer = {"type": "gte", "key": "year", "value": 2024}
    assert documents_of(await search(client, query, filters=newer)) == {handbook, menu}
    either = {"type": "or", "filters": [{"type": "eq", "key": "team", "value": "it"}, newer]}
    assert documents_of(await search(client, query, filters=either)) == {handbook, wiki, menu}
    both = {"type": "and", "filters": [newer, {"type": "in", "key": "team", "value": ["hr", "it"]}]}
    results = await search(client, query, filters=both)
    assert documents_of(results) == {handbook}
    assert results[0]["attributes"] == {"year": 2025, "team": "hr"}
    not_hr = {"type": "ne", "key": "team", "value": "hr"}
    assert documents_of(await search(client, query, collection_ids=[hr["id"], it["id"]], filters=not_hr)) == {wiki}


async def test_attribute_changes_apply_to_the_next_search(client: Client) -> None:
    document_id = await upload_into(client, HANDBOOK, "leave.txt", None, {"status": "draft"})
    published = {"type": "eq", "key": "status", "value": "published"}
    assert await search(client, "leave", filters=published) == []
    response = await client.patch(
        f"{DOCS}/{document_id}", json={"user_id": "alice", "attributes": {"status": "published"}}
    )
    assert (await response.get_json())["attributes"] == {"status": "published"}
    assert documents_of(await search(client, "leave", filters=published)) == {document_id}
    stranger = await client.patch(f"{DOCS}/{document_id}", json={"user_id": "bob", "attributes": {}})
    await error_of(stranger, 404)
    too_many = await client.patch(
        f"{DOCS}/{document_id}", json={"user_id": "alice", "attributes": {f"k{n}": n for n in range(17)}}
    )
    assert "at most 16 keys" in (await error_of(too_many, 422))["message"]


@pytest.mark.parametrize(
    ("filters", "says"),
    [
        ({"type": "like", "key": "a", "value": 1}, "filters.type must be one of"),
        ({"key": "a", "value": 1}, "filters.type is required"),
        ({"type": "gt", "key": "year", "value": "2024"}, "filters.value must be a number for `gt`"),
        ({"type": "in", "key": "team", "value": []}, "filters.value must be a list"),
        ({"type": "and", "filters": []}, "filters.filters must be a non-empty list"),
        ({"type": "and", "filters": [{"type": "eq", "key": "a"}]}, "filters.filters[0].value is required"),
        ({"type": "eq", "key": "a", "value": {"x": 1}}, "filters.value must be a string"),
        ({"type": "eq", "key": "a", "value": 1, "extra": 2}, "unknown field 'extra'"),
    ],
)
async def test_an_invalid_filter_is_a_422_that_names_the_problem(
    client: Client, filters: dict[str, Any], says: str
) -> None:
    response = await client.post(SEARCH, json={"user_id": "alice", "query": "leave", "filters": filters})
    error = await error_of(response, 422)
    assert error["code"] == "invalid_filter" and says in error["message"]


async def test_deleting_a_collection_keeps_its_documents_unless_asked(client: Client) -> None:
    kept, dropped = await new_collection(client, "Kept"), await new_collection(client, "Dropped")
    stays = await upload_into(client, HANDBOOK, "leave.txt", kept["id"])
    goes = await upload_into(client, WIKI, "build.txt", dropped["id"])
    response = await client.delete(f"{COLLECTIONS}/{kept['id']}?user_id=alice")
    assert (await response.get_json())["documents_deleted"] == 0
    assert (await client.get(f"{DOCS}/{stays}?user_id=alice")).status_code == 200
    response = await client.delete(f"{COLLECTIONS}/{dropped['id']}?user_id=alice&delete_documents=true")
    assert (await response.get_json())["documents_deleted"] == 1
    assert (await client.get(f"{DOCS}/{goes}?user_id=alice")).status_code == 404
    assert documents_of(await search(client, "leave deployments")) == {stays}  # no orphan index entries


async def test_removing_a_document_from_a_collection_keeps_the_document(client: Client) -> None:
    hr = await new_collection(client)
    document_id = await upload_into(client, HANDBOOK, "leave.txt", hr["id"])
    response = await client.delete(f"{COLLECTIONS}/{hr['id']}/documents/{document_id}?user_id=alice")
    assert (await response.get_json())["document_counts"]["total"] == 0
    await error_of(await client.delete(f"{COLLECTIONS}/{hr['id']}/documents/{document_id}?user_id=alice"), 404)
    assert await search(client, "leave", collection_ids=[hr["id"]]) == []
    assert documents_of(await search(client, "leave")) == {document_id}


async def test_a_rag_conversation_follows_its_collection_as_it_grows(client: Client, chat: ScriptedChatModel) -> None:
    hr = await new_collection(client)
    await upload_into(client, HANDBOOK, "leave.txt", hr["id"])
    await upload_into(client, MENU, "menu.txt")  # outside the collection
    body = {"user_id": "alice", "message": "How long is parental leave?", "mode": "rag_mode"}
    created = await client.post("/api/v1/conversations", json={**body, "collection_ids": [hr["id"]]})
    assert created.status_code == 201, await created.get_data()
    conversation = (await created.get_json())["conversation"]
    assert conversation["collection_ids"] == [hr["id"]] and conversation["document_ids"] == []
    assert "sixteen weeks" in chat.prompts[-1][-1].content and "canteen" not in chat.prompts[-1][-1].content
    await upload_into(client, WIKI, "build.txt", hr["id"])
    follow = {"user_id": "alice", "message": "When do deployments happen?"}
    response = await client.post(f"/api/v1/conversations/{conversation['id']}/messages", json=follow)
    assert response.status_code == 201, await response.get_data()
    assert "Deployments happen on Tuesdays" in chat.prompts[-1][-1].content


async def test_a_rag_conversation_with_a_filter_and_bad_scopes(client: Client, chat: ScriptedChatModel) -> None:
    await upload_into(client, HANDBOOK, "leave.txt", None, {"team": "hr"})
    await upload_into(client, MENU, "menu.txt", None, {"team": "facilities"})
    body = {"user_id": "alice", "message": "What is served at noon?", "mode": "rag_mode"}
    hr_only = {"type": "eq", "key": "team", "value": "hr"}
    created = await client.post("/api/v1/conversations", json={**body, "filters": hr_only})
    assert (await created.get_json())["conversation"]["filters"] == hr_only
    assert "canteen" not in chat.prompts[-1][-1].content
    foreign = await client.post("/api/v1/conversations", json={**body, "collection_ids": ["0" * 32]})
    await error_of(foreign, 404)
    empty = await new_collection(client, "Empty")
    ungrounded = await client.post("/api/v1/conversations", json={**body, "collection_ids": [empty["id"]]})
    assert (await error_of(ungrounded, 409))["code"] == "documents_unavailable"
    nothing = await client.post(
        "/api/v1/conversations", json={**body, "filters": {"type": "eq", "key": "team", "value": "x"}}
    )
    await error_of(nothing, 409)
    bad = await client.post("/api/v1/conversations", json={**body, "filters": {"type": "gt", "key": "a", "value": "b"}})
    await error_of(bad, 422)
    open_chat = await client.post("/api/v1/conversations", json={**body, "mode": "open_chat", "filters": hr_only})
    await error_of(open_chat, 422)


async def test_the_openai_endpoint_takes_the_same_scope(client: Client, live_server: str, chat: Any) -> None:
    hr = await new_collection(client)
    handbook = await upload_into(client, HANDBOOK, "leave.txt", hr["id"])
    menu = await upload_into(client, MENU, "menu.txt")
    messages = [{"role": "user", "content": "How long is parental leave?"}]
    chat.answer_next("Parental leave is described in [1].", "Parental leave is described in [1].")
    async with openai.AsyncOpenAI(
        base_url=f"{live_server}/v1", api_key="unused", default_headers={"X-User-Id": "alice"}, max_retries=0
    ) as sdk:
        for scope, cited in (({"collection_ids": [hr["id"]]}, {handbook}), ({"all_documents": True}, {handbook, menu})):
            reply = await sdk.chat.completions.create(
                model="botgpt",
                messages=messages,
                extra_body={"botgpt": scope},  # type: ignore[arg-type]
            )
            assert {c["document_id"] for c in reply.botgpt["citations"]} <= cited  # type: ignore[attr-defined]
            assert reply.botgpt["citations"]  # type: ignore[attr-defined]
        with pytest.raises(openai.ConflictError):  # a filter that matches no document: nothing to ground in
            await sdk.chat.completions.create(
                model="botgpt",
                messages=messages,
                extra_body={"botgpt": {"all_documents": True, "filters": {"type": "eq", "key": "x", "value": 1}}},  # type: ignore[arg-type]
            )
        with pytest.raises(openai.NotFoundError):
            await sdk.chat.completions.create(
                model="botgpt",
                messages=messages,
                extra_body={"botgpt": {"collection_ids": ["0" * 32]}},  # type: ignore[arg-type]
            )
