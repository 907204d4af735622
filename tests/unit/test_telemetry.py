"""What the domain reports through the telemetry ports: turns, providers, limits, ingestion.

The ``Metrics`` port is recorded by a fake here; the Prometheus adapter and the OpenTelemetry
one meet their real libraries in tests/http/test_metrics.py and test_tracing.py.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from botgpt.adapters.memory_keys import MemoryKeyStore, MemoryUsageStore
from botgpt.adapters.memory_store import MemoryConversationStore
from botgpt.adapters.otel_environment import exporter_names, tracing_requested
from botgpt.domain.conversations import ConversationService
from botgpt.domain.errors import ModelFailed, ModelUnavailable, RateLimited
from botgpt.domain.fallback import FallbackChatModel
from botgpt.domain.ingestion import IngestionWorker
from botgpt.domain.keys import KeyService
from botgpt.domain.policy import ConversationPolicy
from botgpt.domain.usage import UsageService
from botgpt.entrypoints.logs import REQUEST_ID, JsonFormatter
from botgpt.ports.telemetry import NO_METRICS, Metrics
from tests.conftest import SteppingClock
from tests.fakes import ScriptedChatModel, WordCounter


class RecordingMetrics:
    """Every call made on the ``Metrics`` port, as (method, *arguments)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __getattr__(self, method: str) -> Any:
        if not hasattr(NO_METRICS, method):
            raise AttributeError(method)  # only the port's own methods
        return lambda *arguments: self.calls.append((method, *arguments))

    def named(self, method: str) -> list[tuple[Any, ...]]:
        return [call[1:] for call in self.calls if call[0] == method]


@pytest.fixture
def metrics() -> RecordingMetrics:
    return RecordingMetrics()


def service_on(chat: Any, metrics: RecordingMetrics) -> ConversationService:
    recorded: Metrics = metrics  # type: ignore[assignment]
    policy = ConversationPolicy(system_prompt="be brief", max_answer_tokens=16)
    return ConversationService(
        MemoryConversationStore(), chat, WordCounter(), policy, clock=SteppingClock(), metrics=recorded
    )


def chain(metrics: RecordingMetrics, *models: tuple[str, ScriptedChatModel]) -> FallbackChatModel:
    recorded: Metrics = metrics  # type: ignore[assignment]
    return FallbackChatModel([model for _, model in models], [name for name, _ in models], recorded)


async def test_an_answered_turn_counts_its_provider_tokens_and_duration(metrics: RecordingMetrics) -> None:
    service = service_on(chain(metrics, ("local", ScriptedChatModel(["Four words of answer."]))), metrics)
    turn = await service.start("alice", "hello there")
    ((mode, provider, streamed, prompt, completion, seconds),) = metrics.named("turn_finished")
    answer = turn.assistant_message
    assert (mode, provider, streamed) == ("open_chat", "local", False)
    assert (prompt, completion) == (answer.prompt_tokens, answer.completion_tokens) == (prompt, 4)
    assert 0 < seconds < 5
    assert metrics.named("first_token") == []  # a whole answer whose model tells no first token


async def test_a_streamed_turn_times_its_first_token_and_logs_timings_without_text(
    metrics: RecordingMetrics, caplog: pytest.LogCaptureFixture
) -> None:
    model = ScriptedChatModel(["one two three"])
    model.delay = 0.01
    service = service_on(chain(metrics, ("local", model)), metrics)
    prepared = await service.prepare_start("alice", "a secret question")
    with caplog.at_level(logging.INFO, logger="botgpt.turns"):
        items = [item async for item in service.stream_turn(prepared)]
    ((mode, provider, streamed, first),) = metrics.named("first_token")
    assert (mode, provider, streamed) == ("open_chat", "local", True) and 0.005 < first < 1
    (record,) = [r for r in caplog.records if r.name == "botgpt.turns"]
    timings: dict[str, Any] = record.timings  # type: ignore[attr-defined]
    assert timings["first_token_seconds"] == first
    assert timings["decode_seconds"] >= 0.015  # two more words, 10 ms apart
    assert timings["total_seconds"] >= first + timings["decode_seconds"]
    assert record.outcome == "answered" and record.conversation_id == prepared.conversation.id  # type: ignore[attr-defined]
    line = JsonFormatter().format(record)
    assert "secret" not in line and "one two" not in line and items[-1].assistant_message.content == "one two three"


async def test_a_failed_turn_counts_its_code_and_the_provider_that_failed(metrics: RecordingMetrics) -> None:
    model = ScriptedChatModel()
    model.fail_next(ModelUnavailable("the provider is down"))
    service = service_on(chain(metrics, ("groq", model)), metrics)
    with pytest.raises(ModelUnavailable):
        await service.start("alice", "hello")
    assert metrics.named("turn_failed") == [("open_chat", "model_unavailable", False)]
    assert metrics.named("provider_failed") == [("groq", "model_unavailable")]
    assert metrics.named("provider_fell_back") == [] and metrics.named("turn_finished") == []


async def test_a_fallback_is_counted_and_the_answer_names_the_provider_that_gave_it(
    metrics: RecordingMetrics,
) -> None:
    failing, local = ScriptedChatModel(), ScriptedChatModel(["From the fallback."])
    failing.fail_next(ModelFailed("rejected"))
    service = service_on(chain(metrics, ("groq", failing), ("llama_cpp", local)), metrics)
    await service.start("alice", "hello")
    assert metrics.named("provider_failed") == [("groq", "model_failed")]
    assert metrics.named("provider_fell_back") == [("groq", "llama_cpp")]
    assert [call[:2] for call in metrics.named("turn_finished")] == [("open_chat", "llama_cpp")]


async def test_a_stream_the_client_leaves_counts_as_cancelled(metrics: RecordingMetrics) -> None:
    service = service_on(chain(metrics, ("local", ScriptedChatModel(["one two three four"]))), metrics)
    stream = service.stream_turn(await service.prepare_start("alice", "hello"))
    assert await anext(stream) == "one"
    await stream.aclose()  # what a client that disconnects does
    assert metrics.named("turn_failed") == [("open_chat", "cancelled", True)]
    assert metrics.named("turn_finished") == []


async def test_refusals_by_a_limit_are_counted_by_limit(metrics: RecordingMetrics) -> None:
    clock = SteppingClock()
    key = (await KeyService(MemoryKeyStore(), clock).create("alice", requests_per_minute=1)).key
    recorded: Metrics = metrics  # type: ignore[assignment]
    usage = UsageService(MemoryUsageStore(), clock, recorded)
    await usage.admit(key, spends_tokens=False)
    with pytest.raises(RateLimited):
        await usage.admit(key, spends_tokens=False)
    assert metrics.named("rate_limited") == [("requests",)]


async def test_ingestion_counts_chunks_embedded_and_documents_by_outcome(
    worker: IngestionWorker, document_service: Any, metrics: RecordingMetrics
) -> None:
    from tests.unit.test_ingestion import upload

    worker.metrics = metrics  # type: ignore[assignment]
    document_id = await upload(document_service)
    assert await worker.run_once()
    document = await worker.store.get_document(None, document_id)
    assert document is not None
    assert sum(count for (count,) in metrics.named("chunks_embedded")) == document.chunks_total > 1
    assert metrics.named("document_ingested") == [("ready",)]


@pytest.mark.parametrize(
    ("environ", "on"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "botgpt"}, False),  # naming a service asks for no traces
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, False),
    ],
)
def test_tracing_is_off_unless_the_otel_environment_asks_for_it(environ: dict[str, str], on: bool) -> None:
    assert tracing_requested(environ) is on


def test_otlp_speaks_http_protobuf_unless_told_grpc() -> None:
    assert exporter_names({}) == ["otlp_proto_http"]
    assert exporter_names({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}) == ["otlp_proto_grpc"]
    assert exporter_names({"OTEL_TRACES_EXPORTER": "console,otlp"}) == ["console", "otlp_proto_http"]
    with pytest.raises(ValueError, match="OTEL_EXPORTER_OTLP_PROTOCOL"):
        exporter_names({"OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon"})


def test_a_json_log_line_carries_the_request_id_and_the_extra_fields() -> None:
    token = REQUEST_ID.set("req-7")
    try:
        record = logging.LogRecord("botgpt.x", logging.WARNING, __file__, 1, "%d things", (3,), None)
        record.outcome = "answered"
        line = json.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert line["message"] == "3 things" and line["level"] == "WARNING" and line["logger"] == "botgpt.x"
    assert line["request_id"] == "req-7" and line["outcome"] == "answered" and line["time"].endswith("+00:00")
    outside = json.loads(JsonFormatter().format(logging.LogRecord("x", logging.INFO, "", 1, "m", (), None)))
    assert "request_id" not in outside
