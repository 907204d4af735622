"""The upload's multipart form as HTML forms and Swagger UI's "Try it out" send it: every field
present, the unfilled ones empty. An empty field is one left out."""

from __future__ import annotations

import io
import re

from quart.typing import TestClientProtocol as Client
from werkzeug.datastructures import FileStorage

from tests.http.test_conversations_api import error_of
from tests.http.test_documents_api import DOCS, TEXT


def a_file(name: str = "form.txt") -> dict[str, FileStorage]:
    return {"file": FileStorage(io.BytesIO(TEXT), filename=name)}


async def test_empty_fields_are_left_out(client: Client) -> None:
    response = await client.post(DOCS, form={"user_id": "", "collection_id": "", "attributes": ""}, files=a_file())
    assert response.status_code == 201, await response.get_data()
    body = await response.get_json()
    assert body["user_id"] == "local" and body["attributes"] == {}  # the default user, no attributes
    listed = await (await client.get(f"{DOCS}?user_id=local")).get_json()
    assert [d["document_id"] for d in listed["documents"]] == [body["document_id"]]


async def test_filled_fields_still_count(client: Client) -> None:
    blank = await client.post(DOCS, form={"user_id": "  "}, files=a_file())  # blank is not empty
    assert "must not be empty" in (await error_of(blank, 422))["message"]
    unknown = await client.post(DOCS, form={"user_id": "ann", "collection_id": "0" * 32}, files=a_file())
    assert (await error_of(unknown, 404))["code"] == "collection_not_found"
    named = await client.post(DOCS, form={"user_id": "ann", "attributes": '{"team": "harbour"}'}, files=a_file())
    body = await named.get_json()
    assert (body["user_id"], body["attributes"]) == ("ann", {"team": "harbour"})


async def test_the_documented_form_allows_the_empty_fields_and_names_the_404(client: Client) -> None:
    operation = (await (await client.get("/openapi.json")).get_json())["paths"][DOCS]["post"]
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    for name in ("user_id", "collection_id"):
        assert form[name]["example"] == "" and re.search(form[name]["pattern"], "")
    assert not re.search(form["user_id"]["pattern"], "  ")
    assert not re.search(form["collection_id"]["pattern"], "not-an-id")
    assert form["attributes"]["example"] == {}
    assert "404" in operation["responses"]
