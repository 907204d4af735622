"""Health, readiness and the offline API documentation."""

from __future__ import annotations

import re

import pytest
from quart.typing import TestClientProtocol as Client

from botgpt.entrypoints.http.openapi import dangling_references
from tests.fakes import ScriptedChatModel


async def test_health(client: Client) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert (await response.get_json())["status"] == "healthy"


async def test_ready_when_store_and_model_are_up(client: Client) -> None:
    body = await (await client.get("/ready")).get_json()
    assert body == {"status": "ready", "checks": {"store": "ok", "model": "ok"}}


async def test_not_ready_while_the_model_loads(client: Client, chat: ScriptedChatModel) -> None:
    chat.loaded = False
    response = await client.get("/ready")
    assert response.status_code == 503
    assert (await response.get_json())["checks"]["model"] == "loading"


async def test_openapi_lists_every_endpoint(client: Client) -> None:
    spec = await (await client.get("/openapi.json")).get_json()
    paths = spec["paths"]
    assert set(paths["/api/v1/conversations"]) == {"get", "post"}
    assert set(paths["/api/v1/conversations/{conversation_id}"]) == {"get", "patch", "delete"}
    assert set(paths["/api/v1/conversations/{conversation_id}/messages"]) == {"post"}
    assert {"/health", "/ready"} <= set(paths)


async def test_every_schema_the_openapi_document_references_is_defined(client: Client) -> None:
    spec = await (await client.get("/openapi.json")).get_json()
    assert spec["components"]["schemas"], "no component schemas at all"
    assert dangling_references(spec) == set()
    assert {"ConversationOut", "MessageOut", "Mode"} <= set(spec["components"]["schemas"])


@pytest.mark.parametrize("page_path", ["/docs", "/redoc"])
async def test_documentation_pages_load_only_local_assets(client: Client, page_path: str) -> None:
    response = await client.get(page_path)
    assert response.status_code == 200
    page = await response.get_data(as_text=True)
    urls = re.findall(r'(?:src|href|spec-url)="([^"]+)"', page)
    assert urls and all(url.startswith("/") for url in urls), urls
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200 and len(await asset.get_data()) > 10_000


async def test_only_bundled_assets_are_served(client: Client) -> None:
    assert (await client.get("/docs/assets/..%2F..%2Fetc%2Fpasswd")).status_code == 404
    assert (await client.get("/docs/assets/index.html")).status_code == 404
