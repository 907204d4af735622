"""Switching to Groq and Gemini by configuration alone, through the HTTP API."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from quart import Quart
from werkzeug.datastructures import FileStorage

from botgpt.entrypoints.container import build_container
from botgpt.entrypoints.http.app import create_app
from botgpt.entrypoints.settings import Settings, SettingsError
from tests.fakes import HashingEmbedder, ScriptedChatModel
from tests.loopback import LoopbackProvider, Reply, gemini_embeddings, gemini_events, groq_events

GROQ_PATH = "/openai/v1/chat/completions"
FAST = {"provider_attempts": 2, "provider_backoff_seconds": 0.01, "provider_timeout_seconds": 2.0}


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackProvider]:
    with LoopbackProvider().running() as server:
        monkeypatch.setenv("GROQ_BASE_URL", server.url)
        yield server


async def app_for(settings: Settings, **overrides: Any) -> Quart:
    container = build_container(settings)
    for name, value in overrides.items():
        getattr(container, name).override(providers.Object(value))
    return create_app(container)


@pytest.fixture
async def groq_app(provider: LoopbackProvider, tmp_path: Path) -> AsyncIterator[Quart]:
    environ = {"BOTGPT_CHAT_PROVIDER": "groq", "GROQ_API_KEY": "k", "BOTGPT_STORE": "memory"}
    settings = Settings.load(environ=environ, data_dir=tmp_path, **FAST)
    app = await app_for(settings, embedder=HashingEmbedder())
    async with app.test_app():
        yield app


async def test_groq_answers_through_the_api(provider: LoopbackProvider, groq_app: Quart) -> None:
    provider.script(GROQ_PATH, Reply(events=groq_events("Hello from Groq.")))
    response = await groq_app.test_client().post("/api/v1/conversations", json={"user_id": "u", "message": "hi"})
    assert response.status_code == 201
    assistant = (await response.get_json())["assistant_message"]
    assert (assistant["content"], assistant["model"]) == ("Hello from Groq.", "llama-3.3-70b-versatile")


async def test_an_unavailable_provider_is_503_with_retry_after(provider: LoopbackProvider, groq_app: Quart) -> None:
    provider.default(
        GROQ_PATH, Reply(status=429, json_body={"error": {"message": "busy"}}, headers={"Retry-After": "0"})
    )
    client = groq_app.test_client()
    response = await client.post("/api/v1/conversations", json={"user_id": "u", "message": "hi"})
    assert response.status_code == 503 and "Retry-After" in response.headers
    assert (await response.get_json())["error"]["code"] == "model_unavailable"
    assert (await (await client.get("/api/v1/conversations?user_id=u")).get_json())["total"] == 0


async def test_a_rejected_key_is_502_with_a_clear_message(provider: LoopbackProvider, groq_app: Quart) -> None:
    provider.default(GROQ_PATH, Reply(status=401, json_body={"error": {"message": "Invalid API Key"}}))
    response = await groq_app.test_client().post("/api/v1/conversations", json={"user_id": "u", "message": "hi"})
    assert response.status_code == 502
    error = (await response.get_json())["error"]
    assert error["code"] == "model_failed" and "rejected" in error["message"]


async def test_fallback_to_another_provider(provider: LoopbackProvider, tmp_path: Path) -> None:
    provider.default(GROQ_PATH, Reply(status=500, json_body={"error": {"message": "down"}}))
    local = ScriptedChatModel(answers=["Local."])
    environ = {"BOTGPT_CHAT_PROVIDER": "groq", "BOTGPT_CHAT_FALLBACKS": "scripted", "GROQ_API_KEY": "k"}
    settings = Settings.load(environ=environ, data_dir=tmp_path, store="memory", **FAST)
    container = build_container(settings)
    container.embedder.override(providers.Object(HashingEmbedder()))
    container.plugins.override(providers.Singleton(_with_scripted, local))
    app = create_app(container)
    async with app.test_app():
        response = await app.test_client().post("/api/v1/conversations", json={"user_id": "u", "message": "hi"})
    assistant = (await response.get_json())["assistant_message"]
    assert (assistant["content"], assistant["model"]) == ("Local.", "scripted")


def _with_scripted(model: ScriptedChatModel) -> Any:
    from botgpt.plugins.hookspecs import hookimpl
    from botgpt.plugins.manager import plugin_manager

    class Scripted:
        @hookimpl
        def register_chat_models(self, register: Any) -> None:
            register("scripted", lambda config: model)

    return plugin_manager(extra=(Scripted(),))


async def test_gemini_embeddings_and_chat_by_configuration(provider: LoopbackProvider, tmp_path: Path) -> None:
    provider.default(":batchEmbedContents", lambda body: Reply(json_body=gemini_embeddings(len(body["requests"]), 16)))
    provider.default(":streamGenerateContent", Reply(events=gemini_events("Grounded answer [1].")))
    environ = {
        "BOTGPT_CHAT_PROVIDER": "gemini",
        "BOTGPT_EMBEDDER": "gemini",
        "GEMINI_API_KEY": "k",
        "GEMINI_BASE_URL": provider.url,
        "BOTGPT_GEMINI_EMBED_DIMENSION": "16",
    }
    app = create_app(build_container(Settings.load(environ=environ, data_dir=tmp_path, store="memory", **FAST)))
    async with app.test_app():
        client = app.test_client()
        text = b"Fog horns warned ships. Keepers polished the lenses every morning."
        files = {"file": FileStorage(io.BytesIO(text), filename="fog.txt")}
        document_id = (await (await client.post("/api/v1/documents", form={"user_id": "u"}, files=files)).get_json())[
            "id"
        ]
        for _ in range(200):
            status = (await (await client.get(f"/api/v1/documents/{document_id}")).get_json())["status"]
            if status == "ready":
                break
            await asyncio.sleep(0.02)
        assert status == "ready"
        response = await client.post(
            "/api/v1/conversations",
            json={
                "user_id": "u",
                "message": "Who polished lenses?",
                "mode": "rag_mode",
                "document_ids": [document_id],
            },
        )
    body = await response.get_json()
    assert body["assistant_message"]["model"] == "gemini-2.0-flash"
    assert body["assistant_message"]["citations"][0]["document_id"] == document_id
    assert provider.count(":batchEmbedContents") >= 2  # the document, then the question


def test_missing_keys_and_uris_are_named(tmp_path: Path) -> None:
    async def start(environ: dict[str, str]) -> None:
        container = build_container(Settings.load(environ=environ, data_dir=tmp_path))
        container.embedder.override(providers.Object(HashingEmbedder()))
        await container.init_resources()  # type: ignore[misc]

    with pytest.raises(SettingsError, match="GROQ_API_KEY"):
        asyncio.run(start({"BOTGPT_CHAT_PROVIDER": "groq"}))
    with pytest.raises(SettingsError, match="MONGODB_URI"):
        asyncio.run(start({"BOTGPT_STORE": "mongo"}))
