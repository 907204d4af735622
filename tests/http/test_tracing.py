"""Traces through the OpenTelemetry SDK: one RAG turn over HTTP gives the expected span tree,
every span of it carries the request and conversation ids and no message text; ingestion is
a tree of its steps; and with only ``OTEL_*`` set, spans reach an OTLP collector."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from quart import Quart

from botgpt.adapters.otel_tracing import OtelTracer
from botgpt.entrypoints.container import Container, build_container
from botgpt.entrypoints.http.app import create_app
from botgpt.entrypoints.settings import Settings
from tests.fakes import HashingEmbedder, ScriptedChatModel
from tests.http.test_documents_api import TEXT, ready, upload
from tests.loopback import LoopbackProvider, Reply

QUESTION = "What did the Fresnel lens do for the keepers?"
ANSWER = "It made the light visible far away [1]."


def container_on(tmp_path: Path, **overrides: Any) -> tuple[Container, ScriptedChatModel]:
    settings = Settings.load(environ={}, data_dir=tmp_path, max_upload_mb=1, **overrides)
    container = build_container(settings)
    chat = ScriptedChatModel()
    container.chat_model.override(providers.Object(chat))
    container.embedder.override(providers.Object(HashingEmbedder()))
    return container, chat


@contextlib.asynccontextmanager
async def traced_app(tmp_path: Path, **overrides: Any) -> AsyncIterator[tuple[Quart, InMemorySpanExporter, Any]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    container, chat = container_on(tmp_path, **overrides)
    container.tracer.override(providers.Object(OtelTracer(provider, record_text=bool(overrides))))
    app = create_app(container)
    async with app.test_app():
        yield app, exporter, chat


def tree(spans: tuple[ReadableSpan, ...]) -> dict[str, list[str]]:
    """Each span's name -> its children's names, sorted; the roots under ``""``."""
    names = {span.context.span_id: span.name for span in spans}
    children: dict[str, list[str]] = {}
    for span in spans:
        parent = names.get(span.parent.span_id, "?") if span.parent else ""
        children.setdefault(parent, []).append(span.name)
    return {name: sorted(kids) for name, kids in children.items()}


def by_name(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    (span,) = [span for span in spans if span.name == name]
    return span


async def test_a_rag_turn_is_one_tree_of_spans_with_its_ids_and_no_text(tmp_path: Path) -> None:
    async with traced_app(tmp_path) as (app, exporter, chat):
        client = app.test_client()
        document_id = (await (await upload(client, TEXT)).get_json())["document_id"]
        assert (await ready(client, document_id))["status"] == "ready"
        exporter.clear()
        chat.answer_next(ANSWER)
        body = {"user_id": "alice", "message": QUESTION, "mode": "rag_mode", "document_ids": [document_id]}
        response = await client.post(
            "/api/v1/conversations", json={**body, "stream": True}, headers={"X-Request-ID": "req-trace-1"}
        )
        text = (await response.get_data()).decode()
        done = json.loads(text.split("event: done\ndata: ", 1)[1].split("\n", 1)[0])
        spans = exporter.get_finished_spans()

    assert tree(spans) == {
        "": ["POST /api/v1/conversations"],
        "POST /api/v1/conversations": ["turn"],
        "turn": ["model.call", "retrieval"],
        "retrieval": ["retrieve.hybrid"],
        "retrieve.hybrid": ["fusion", "retrieve.bm25", "retrieve.dense"],
        "model.call": ["model.decode", "model.prefill"],
    }
    assert len({span.context.trace_id for span in spans}) == 1
    assert all(span.attributes and span.attributes["botgpt.request_id"] == "req-trace-1" for span in spans)
    conversation = done["conversation_id"]
    under_turn = [span for span in spans if span.name != "POST /api/v1/conversations"]
    assert all(span.attributes and span.attributes["botgpt.conversation_id"] == conversation for span in under_turn)
    request = by_name(spans, "POST /api/v1/conversations").attributes or {}
    assert (request["botgpt.route"], request["botgpt.status"]) == ("/api/v1/conversations", 200)
    call = by_name(spans, "model.call").attributes or {}
    assert call["botgpt.provider"] == "scripted" and call["botgpt.completion_tokens"] > 0
    prefill, decode = by_name(spans, "model.prefill"), by_name(spans, "model.decode")
    assert prefill.end_time is not None and decode.start_time is not None and prefill.end_time <= decode.start_time
    assert (by_name(spans, "turn").attributes or {})["botgpt.mode"] == "rag_mode"
    values = " ".join(str(v) for span in spans for v in (span.attributes or {}).values())
    assert "Fresnel" not in values and "visible" not in values  # neither the question nor the answer


async def test_message_text_is_on_spans_only_when_a_setting_allows_it(tmp_path: Path) -> None:
    async with traced_app(tmp_path, trace_message_text=True) as (app, exporter, chat):
        chat.answer_next(ANSWER)
        response = await app.test_client().post("/api/v1/conversations", json={"user_id": "a", "message": QUESTION})
        assert response.status_code == 201
        turn = by_name(exporter.get_finished_spans(), "turn").attributes or {}
    assert turn["botgpt.text.question"] == QUESTION and "visible far away" in str(turn["botgpt.text.answer"])


async def test_a_failed_turn_marks_its_spans_failed_with_the_code_not_the_message(tmp_path: Path) -> None:
    from botgpt.domain.errors import ModelUnavailable

    async with traced_app(tmp_path) as (app, exporter, chat):
        chat.fail_next(ModelUnavailable("the provider said something private"))
        response = await app.test_client().post("/api/v1/conversations", json={"user_id": "a", "message": "hi"})
        assert response.status_code == 503
        spans = exporter.get_finished_spans()
    for name in ("turn", "model.call"):
        span = by_name(spans, name)
        assert span.status.status_code.name == "ERROR" and span.status.description == "model_unavailable", name
        assert "private" not in str(span.attributes) and "private" not in str(span.events)


async def test_ingestion_is_a_tree_of_its_steps(tmp_path: Path) -> None:
    async with traced_app(tmp_path) as (app, exporter, _):
        client = app.test_client()
        document_id = (await (await upload(client, TEXT)).get_json())["document_id"]
        assert (await ready(client, document_id))["status"] == "ready"
        # "ready" is stored before the worker's span ends (it still finishes the job).
        for _ in range(100):
            spans = exporter.get_finished_spans()
            if any(span.name == "ingest" for span in spans):
                break
            await asyncio.sleep(0.05)
    ingest = by_name(spans, "ingest")
    assert ingest.parent is None and (ingest.attributes or {})["botgpt.document_id"] == document_id
    steps = tree(spans)["ingest"]
    assert steps[0] == "ingest.chunk" and {"ingest.extract", "ingest.embed", "ingest.publish"} <= set(steps)
    assert steps.count("ingest.chunk") == steps.count("ingest.embed") + 1  # the last take finds nothing
    assert (ingest.attributes or {})["botgpt.outcome"] == "ready"


async def test_a_request_continues_the_callers_trace(tmp_path: Path) -> None:
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    async with traced_app(tmp_path) as (app, exporter, _):
        await app.test_client().get("/health", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})
        (span,) = exporter.get_finished_spans()
    assert span.name == "GET /health" and span.context.trace_id == int(trace_id, 16)
    assert span.parent is not None and span.parent.span_id == int(parent_id, 16)


@contextlib.contextmanager
def collector() -> Iterator[LoopbackProvider]:
    """An OTLP/HTTP collector on loopback: it takes every export and answers 200."""
    server = LoopbackProvider()
    server.default("/v1/traces", Reply(status=200, raw=b""))
    with server.running():
        yield server


async def test_otel_environment_alone_sends_spans_to_an_otlp_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with collector() as otlp:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.url)
        monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
        container, _ = container_on(tmp_path)
        app = create_app(container)
        async with app.test_app():
            response = await app.test_client().post("/api/v1/conversations", json={"user_id": "a", "message": "hi"})
            assert response.status_code == 201
        # Stopping the app flushed the batch: it has reached the collector.
        exports = [ExportTraceServiceRequest.FromString(seen.body) for seen in otlp.requests]
    assert exports and all(seen.path == "/v1/traces" for seen in otlp.requests)
    spans = [span for export in exports for rs in export.resource_spans for ss in rs.scope_spans for span in ss.spans]
    names = {span.name for span in spans}
    assert {"POST /api/v1/conversations", "turn", "model.call"} <= names
    resource = {a.key: a.value.string_value for a in exports[0].resource_spans[0].resource.attributes}
    assert resource["service.name"] == "botgpt" and resource["deployment.environment"] == "test"


async def test_without_otel_settings_the_tracer_records_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botgpt.ports.telemetry import NO_TRACER

    for variable in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(variable, raising=False)
    container, _ = container_on(tmp_path)
    app = create_app(container)
    async with app.test_app():
        assert app.extensions["botgpt.tracer"] is NO_TRACER
