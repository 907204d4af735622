"""The OpenAPI document people read: grouped, summarised, with its errors and security."""

from __future__ import annotations

from quart.typing import TestClientProtocol as Client

from botgpt.domain.keys import KeyService
from botgpt.entrypoints.container import Container
from botgpt.entrypoints.core import provided


async def test_every_operation_has_a_tag_a_short_summary_and_its_errors(client: Client) -> None:
    spec = await (await client.get("/openapi.json")).get_json()
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            where = f"{method.upper()} {path}"
            assert operation.get("tags") and operation["tags"] != ["default"], where
            assert len(operation["summary"].split()) <= 7, where
            errors = {status for status in operation["responses"] if status.startswith("4")}
            if path.startswith("/api/"):
                assert {"401", "403"} <= errors, where
            for status in errors:
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, where
    assert spec["components"]["securitySchemes"]["bearerKey"]["scheme"] == "bearer"
    upload = spec["paths"]["/api/v1/documents"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert upload["schema"]["properties"]["file"] == {
        "type": "string",
        "format": "binary",
        "description": upload["schema"]["properties"]["file"]["description"],
    }
    assert "200" in spec["paths"]["/v1/models"]["get"]["responses"]


async def test_docs_stay_readable_once_a_key_exists(client: Client, container: Container) -> None:
    keys: KeyService = await provided(container.keys)
    await keys.create("alice")
    for path in ("/docs", "/redoc", "/openapi.json", "/ready", "/docs/assets/redoc.standalone.js"):
        assert (await client.get(path)).status_code == 200, path
    assert (await client.get("/api/v1/conversations")).status_code == 401


async def test_reads_do_not_count_against_the_requests_per_minute_limit(client: Client, container: Container) -> None:
    keys: KeyService = await provided(container.keys)
    auth = {"Authorization": f"Bearer {(await keys.create('alice', requests_per_minute=2)).secret}"}
    for _ in range(5):
        assert (await client.get("/api/v1/conversations", headers=auth)).status_code == 200
    statuses = [
        (await client.post("/api/v1/collections", json={"name": "c"}, headers=auth)).status_code for _ in range(3)
    ]
    assert statuses == [201, 201, 429]


async def test_a_405_names_the_allowed_methods(client: Client) -> None:
    response = await client.put("/api/v1/usage")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET"}
    assert (await response.get_json())["error"]["code"] == "method_not_allowed"


async def test_a_body_that_is_not_utf8_is_malformed_not_a_fault(client: Client) -> None:
    response = await client.post("/api/v1/collections", data=b"\xbe\xff", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and (await response.get_json())["error"]["code"] == "malformed_json"
