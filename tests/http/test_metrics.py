"""``/metrics`` after a scripted workload: the counters' values, not only their names; who may
read it; and that it is no API endpoint (not in the OpenAPI document, under no key's limit)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from prometheus_client.parser import text_string_to_metric_families
from quart import Quart
from quart.typing import TestClientProtocol as Client

from botgpt.adapters.prometheus_metrics import engine_families
from botgpt.domain.errors import ModelUnavailable
from botgpt.domain.fallback import FallbackChatModel
from botgpt.domain.keys import KeyService
from botgpt.entrypoints.container import Container, build_container
from botgpt.entrypoints.core import provided
from botgpt.entrypoints.http.app import BIND_HOST_VARIABLE, create_app
from botgpt.entrypoints.settings import Settings
from botgpt.entrypoints.storage import storage_for
from botgpt.ports.telemetry import NO_METRICS
from tests.fakes import HashingEmbedder, ScriptedChatModel
from tests.http.conftest import mongomock_database
from tests.http.test_documents_api import TEXT, ready, upload

API = "/api/v1/conversations"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    """Every sample of a scrape, by name and labels."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(scraped: Samples, name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


def total(scraped: Samples, name: str, **labels: str) -> float:
    """The sum over every series of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in scraped.items() if n == name and wanted <= have)


async def scrape(client: Client, headers: dict[str, str] | None = None) -> Samples:
    response = await client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, await response.get_data()
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return samples((await response.get_data()).decode())


@contextlib.asynccontextmanager
async def app_on(tmp_path: Path, store: str = "sqlite", **overrides: Any) -> AsyncIterator[tuple[Quart, Container]]:
    """A served app on ``settings`` with ``overrides``, its chat model behind a one-provider
    chain named ``local`` (as the server builds it), and the hashing embedder."""
    settings = Settings.load(
        environ={}, data_dir=tmp_path, store=store, mongodb_uri="mongodb://mock", max_upload_mb=1, **overrides
    )
    storage = storage_for(settings)
    if store == "mongo":
        storage.database.override(providers.Resource(mongomock_database, settings))
    container = build_container(settings, storage)
    chat = ScriptedChatModel()
    container.chat_model.override(
        providers.Singleton(lambda metrics: FallbackChatModel([chat], ["local"], metrics), container.metrics)
    )
    container.embedder.override(providers.Object(HashingEmbedder()))
    app = create_app(container)
    async with app.test_app():
        yield app, container


@pytest.mark.parametrize("store", ["sqlite", "mongo"])
async def test_a_scripted_workload_shows_in_the_counters(tmp_path: Path, store: str) -> None:
    async with app_on(tmp_path, store, metrics_access="open") as (app, container):
        client = app.test_client()
        chat: ScriptedChatModel = (await provided(container.chat_model)).models[0]
        answered = [await client.post(API, json={"user_id": "alice", "message": f"hello {n}"}) for n in range(2)]
        streamed = await client.post(API, json={"user_id": "alice", "message": "stream it", "stream": True})
        chat.fail_next(ModelUnavailable("the provider is down"))
        failed = await client.post(API, json={"user_id": "alice", "message": "this one fails"})
        assert [r.status_code for r in answered] + [streamed.status_code, failed.status_code] == [201, 201, 200, 503]
        messages = [(await r.get_json())["assistant_message"] for r in answered]

        document_id = (await (await upload(client, TEXT)).get_json())["document_id"]
        document = await ready(client, document_id)
        search = await client.post("/api/v1/search", json={"user_id": "alice", "query": "Fresnel lens"})
        assert document["status"] == "ready" and search.status_code == 200

        conversation_id = (await answered[0].get_json())["conversation_id"]
        renamed = await client.patch(f"{API}/{conversation_id}", json={"title": "t"})
        assert renamed.status_code == 200, await renamed.get_data()

        keys: KeyService = await provided(container.keys)
        auth = {"Authorization": f"Bearer {(await keys.create('bob', requests_per_minute=1)).secret}"}
        limited = [(await client.post("/api/v1/collections", json={"name": "c"}, headers=auth)).status_code]
        limited.append((await client.post("/api/v1/collections", json={"name": "d"}, headers=auth)).status_code)
        assert limited == [201, 429]

        scraped = await scrape(client)

    # Requests, by route template and status; a route with an id counts under its template.
    turns = {"method": "POST", "route": API}
    assert value(scraped, "botgpt_http_requests_total", **turns, status="201") == 2
    assert value(scraped, "botgpt_http_requests_total", **turns, status="200") == 1
    assert value(scraped, "botgpt_http_requests_total", **turns, status="503") == 1
    polls = total(scraped, "botgpt_http_requests_total", route="/api/v1/documents/<document_id>")
    assert polls >= 1 and value(scraped, "botgpt_http_request_duration_seconds_count", **turns) == 4
    routes = {dict(labels).get("route", "") for (_, labels) in scraped}
    assert document_id not in " ".join(routes)
    renamed = {"method": "PATCH", "route": f"{API}/<conversation_id>", "status": "200"}  # no converter's name
    assert value(scraped, "botgpt_http_requests_total", **renamed) == 1
    # Turns by mode, provider and outcome; tokens of the answers; a streamed first token.
    assert value(scraped, "botgpt_turns_total", mode="open_chat", provider="local", outcome="answered") == 3
    assert value(scraped, "botgpt_turns_total", mode="open_chat", provider="none", outcome="model_unavailable") == 1
    assert value(scraped, "botgpt_provider_errors_total", provider="local", code="model_unavailable") == 1
    completion_tokens = value(scraped, "botgpt_completion_tokens_total", provider="local")
    assert completion_tokens >= sum(m["completion_tokens"] for m in messages) + 1  # the streamed one too
    assert value(scraped, "botgpt_prompt_tokens_total", provider="local") >= sum(m["prompt_tokens"] for m in messages)
    ttft = {"mode": "open_chat", "provider": "local", "streamed": "true"}
    assert value(scraped, "botgpt_turn_first_token_seconds_count", **ttft) == 1
    assert value(scraped, "botgpt_turn_duration_seconds_count", mode="open_chat", provider="local") == 3
    # Ingestion: every chunk of the document, one ready document, an empty queue.
    assert value(scraped, "botgpt_ingestion_chunks_embedded_total") == document["progress"]["chunks_total"] > 0
    assert value(scraped, "botgpt_ingestion_documents_total", outcome="ready") == 1
    assert value(scraped, "botgpt_ingestion_jobs", state="queued") == 0
    assert value(scraped, "botgpt_ingestion_oldest_job_age_seconds") == 0
    # Retrieval by retriever: the hybrid one and each of its parts, once each.
    for retriever in ("hybrid", "dense", "bm25"):
        assert value(scraped, "botgpt_retrieval_duration_seconds_count", retriever=retriever) == 1, retriever
    # One refusal by the requests-a-minute limit, and the 429 it answered.
    assert value(scraped, "botgpt_rate_limited_total", limit="requests") == 1
    assert value(scraped, "botgpt_http_requests_total", method="POST", route="/api/v1/collections", status="429") == 1
    assert not [name for (name, _) in scraped if name.startswith("botgpt_engine")]  # no local engine here


async def test_the_ingestion_queue_and_its_oldest_job_are_read_at_the_scrape(tmp_path: Path) -> None:
    async with app_on(tmp_path, metrics_access="open", ingest_workers=0) as (app, _):
        client = app.test_client()
        assert (await upload(client, TEXT)).status_code == 201
        await asyncio.sleep(0.05)
        scraped = await scrape(client)
    assert value(scraped, "botgpt_ingestion_jobs", state="queued") == 1
    assert value(scraped, "botgpt_ingestion_jobs", state="running") == 0
    assert 0.04 < value(scraped, "botgpt_ingestion_oldest_job_age_seconds") < 30


async def test_metrics_behind_a_key_refuse_without_one_and_count_against_no_limit(tmp_path: Path) -> None:
    async with app_on(tmp_path, metrics_access="key") as (app, container):
        client = app.test_client()
        refused = await client.get("/metrics")
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await refused.get_json())["error"]["code"] == "unauthorized"
        keys: KeyService = await provided(container.keys)
        auth = {"Authorization": f"Bearer {(await keys.create('ops', requests_per_minute=1)).secret}"}
        assert (await client.get("/metrics", headers={"Authorization": "Bearer not-a-key"})).status_code == 401
        for _ in range(3):
            await scrape(client, auth)  # scrapes spend none of the key's one request a minute
        first = await client.post("/api/v1/collections", json={"name": "c"}, headers=auth)
        second = await client.post("/api/v1/collections", json={"name": "d"}, headers=auth)
        assert (first.status_code, second.status_code) == (201, 429)
        spec = await (await client.get("/openapi.json")).get_json()
        assert "/metrics" not in spec["paths"]  # operators' endpoint, documented in the README


async def test_metrics_off_is_a_404_and_counts_nothing(tmp_path: Path) -> None:
    async with app_on(tmp_path, metrics_access="off") as (app, container):
        response = await app.test_client().get("/metrics")
        assert response.status_code == 404 and (await response.get_json())["error"]["code"] == "not_found"
        assert container.metrics() is NO_METRICS


@pytest.mark.parametrize(("bind", "status"), [("127.0.0.1", 200), ("::1", 200), ("0.0.0.0", 401), (None, 401)])
async def test_auto_access_is_open_on_a_loopback_bind_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bind: str | None, status: int
) -> None:
    if bind is None:
        monkeypatch.delenv(BIND_HOST_VARIABLE, raising=False)  # another server runs the app: bind unknown
    else:
        monkeypatch.setenv(BIND_HOST_VARIABLE, bind)
    async with app_on(tmp_path) as (app, _):
        assert (await app.test_client().get("/metrics")).status_code == status


def test_the_engine_families_say_what_its_status_said() -> None:
    assert engine_families(None) == []
    down = samples("".join(family_text(f) for f in engine_families({"up": False, "restarts": 2})))
    assert value(down, "botgpt_engine_up") == 0 and value(down, "botgpt_engine_restarts_total") == 2
    assert value(down, "botgpt_engine_queue_depth") == 0 and ("botgpt_engine_queue_depth", frozenset()) not in down
    status = {"up": True, "restarts": 1, "waiting": 3, "active": 2, "slots": 4, "refused": 5}
    up = samples("".join(family_text(f) for f in engine_families(status)))
    assert [value(up, f"botgpt_engine_{name}") for name in ("up", "queue_depth", "busy_slots", "slots")] == [1, 3, 2, 4]
    assert value(up, "botgpt_engine_refusals_total") == 5 and value(up, "botgpt_engine_restarts_total") == 1


def family_text(family: Any) -> str:
    from prometheus_client import CollectorRegistry, generate_latest

    class One:
        def collect(self) -> list[Any]:
            return [family]

    registry = CollectorRegistry()
    registry.register(One())  # type: ignore[arg-type]
    return generate_latest(registry).decode()
