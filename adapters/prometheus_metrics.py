"""The ``Metrics`` port as Prometheus counters and histograms (prometheus_client), and the text
of one scrape: those, plus gauges computed at scrape time (the engine's load, the ingestion
queue), which no worker could keep alone.

Several HTTP workers write their samples to ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's
multiprocess mode; ``botgpt serve --workers N`` makes the directory before the workers start)
and a scrape answered by any of them sums every worker's counters. prometheus_client picks
its mode when it is first imported, so the variable must be set before that.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from botgpt.domain.model import JobCounts

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
TURN_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)
FIRST_TOKEN_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
RETRIEVAL_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

# ``*_created`` series: multiprocess mode has none, so a scrape looks the same either way.
disable_created_metrics()  # type: ignore[no-untyped-call]


def multiprocess_dir() -> str | None:
    """The multiprocess directory in force, if any."""
    return os.environ.get(MULTIPROC_VARIABLE) or None


class PrometheusMetrics:
    """Every metric botgpt exports, in a registry of its own (several apps may live in one
    process, as in tests; each keeps its own counts unless in multiprocess mode)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        if multiprocess_dir() is None:
            ProcessCollector(registry=self.registry)  # per-process figures mean nothing summed
        registry = self.registry
        self._requests = Counter(
            "botgpt_http_requests", "HTTP requests, by route template and status.", ["method", "route", "status"],
            registry=registry,
        )  # fmt: skip
        self._request_seconds = Histogram(
            "botgpt_http_request_duration_seconds",
            "HTTP request latency, to the end of the response body (a stream's whole length).",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )
        self._turns = Counter(
            "botgpt_turns",
            "Turns that reached the model, by mode, the provider that answered (none: no answer) and outcome"
            " (answered, or the error code; cancelled: the client went away).",
            ["mode", "provider", "outcome"],
            registry=registry,
        )
        self._turn_seconds = Histogram(
            "botgpt_turn_duration_seconds",
            "Answered turns, from the request's arrival to the stored answer.",
            ["mode", "provider"],
            buckets=TURN_BUCKETS,
            registry=registry,
        )
        self._first_token = Histogram(
            "botgpt_turn_first_token_seconds",
            "Time from asking the model to the answer's first token (whole answers: as the provider tells).",
            ["mode", "provider", "streamed"],
            buckets=FIRST_TOKEN_BUCKETS,
            registry=registry,
        )
        self._prompt_tokens = Counter(
            "botgpt_prompt_tokens", "Prompt tokens of answered turns.", ["provider"], registry=registry
        )
        self._completion_tokens = Counter(
            "botgpt_completion_tokens", "Answer tokens of answered turns.", ["provider"], registry=registry
        )
        self._retries = Counter(
            "botgpt_provider_retries", "Remote provider calls tried again.", ["provider"], registry=registry
        )
        self._provider_errors = Counter(
            "botgpt_provider_errors", "Provider calls that failed, by error code.", ["provider", "code"],
            registry=registry,
        )  # fmt: skip
        self._fallbacks = Counter(
            "botgpt_provider_fallbacks", "Answers asked of the next provider of the chain after one failed.",
            ["from_provider", "to_provider"], registry=registry,
        )  # fmt: skip
        self._retrieval_seconds = Histogram(
            "botgpt_retrieval_duration_seconds",
            "Time each retriever took to rank a scope (a hybrid one, and each of its parts).",
            ["retriever"],
            buckets=RETRIEVAL_BUCKETS,
            registry=registry,
        )
        self._rerank_seconds = Histogram(
            "botgpt_rerank_duration_seconds",
            "Time the reranker took to reorder the candidates.",
            ["reranker"],
            buckets=RETRIEVAL_BUCKETS,
            registry=registry,
        )
        self._chunks = Counter(
            "botgpt_ingestion_chunks_embedded", "Chunks embedded and stored by ingestion.", registry=registry
        )
        self._documents = Counter(
            "botgpt_ingestion_documents", "Documents whose ingestion ended, by outcome.", ["outcome"],
            registry=registry,
        )  # fmt: skip
        self._rate_limited = Counter(
            "botgpt_rate_limited", "Requests refused by a key's limit (requests a minute, tokens a day).",
            ["limit"], registry=registry,
        )  # fmt: skip

    def request_served(self, method: str, route: str, status: int, seconds: float) -> None:
        self._requests.labels(method, route, str(status)).inc()
        self._request_seconds.labels(method, route).observe(seconds)

    def turn_finished(
        self, mode: str, provider: str, streamed: bool, prompt_tokens: int, completion_tokens: int, seconds: float
    ) -> None:
        self._turns.labels(mode, provider, "answered").inc()
        self._turn_seconds.labels(mode, provider).observe(seconds)
        self._prompt_tokens.labels(provider).inc(prompt_tokens)
        self._completion_tokens.labels(provider).inc(completion_tokens)

    def turn_failed(self, mode: str, code: str, streamed: bool) -> None:
        self._turns.labels(mode, "none", code).inc()

    def first_token(self, mode: str, provider: str, streamed: bool, seconds: float) -> None:
        self._first_token.labels(mode, provider, "true" if streamed else "false").observe(seconds)

    def provider_retried(self, provider: str) -> None:
        self._retries.labels(provider).inc()

    def provider_failed(self, provider: str, code: str) -> None:
        self._provider_errors.labels(provider, code).inc()

    def provider_fell_back(self, from_provider: str, to_provider: str) -> None:
        self._fallbacks.labels(from_provider, to_provider).inc()

    def retrieval_timed(self, retriever: str, seconds: float) -> None:
        self._retrieval_seconds.labels(retriever).observe(seconds)

    def rerank_timed(self, reranker: str, seconds: float) -> None:
        self._rerank_seconds.labels(reranker).observe(seconds)

    def chunks_embedded(self, count: int) -> None:
        self._chunks.inc(count)

    def document_ingested(self, outcome: str) -> None:
        self._documents.labels(outcome).inc()

    def rate_limited(self, limit: str) -> None:
        self._rate_limited.labels(limit).inc()

    def exposition(self, scraped: Sequence[Metric] = ()) -> bytes:
        """One scrape in Prometheus' text format: every worker's samples (this process's
        alone outside multiprocess mode), then ``scraped``, the families computed for it."""
        path = multiprocess_dir()
        if path is None:
            counted = generate_latest(self.registry)
        else:
            merged = CollectorRegistry()
            MultiProcessCollector(merged, path)  # type: ignore[no-untyped-call]
            counted = generate_latest(merged)
        extra = CollectorRegistry()
        extra.register(_Families(scraped))
        return counted + generate_latest(extra)


class _Families:
    """A collector of families computed once, for one scrape."""

    def __init__(self, families: Sequence[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return list(self._families)


def engine_families(status: Mapping[str, Any] | None) -> list[Metric]:
    """The local engine's load as its status socket told it at this scrape (none without a
    local engine): whether it answered, its queue, its slots, its supervisor's restarts and
    the requests it refused for a full queue (since it started: a restart resets that count,
    which ``rate()`` allows for)."""
    if status is None:
        return []
    up = bool(status.get("up"))
    families: list[Metric] = [
        _gauge("botgpt_engine_up", "1 if the local engine answered its status request at this scrape.", int(up)),
        _counter("botgpt_engine_restarts", "Times the supervisor restarted the engine.", status.get("restarts", 0)),
    ]
    if up:
        families += [
            _gauge("botgpt_engine_queue_depth", "Requests waiting for a free engine slot.", status.get("waiting", 0)),
            _gauge("botgpt_engine_busy_slots", "Engine slots generating an answer now.", status.get("active", 0)),
            _gauge("botgpt_engine_slots", "Engine slots (answers generated together).", status.get("slots", 0)),
            _counter(
                "botgpt_engine_refusals", "Requests the engine refused: its queue was full.", status.get("refused", 0)
            ),
        ]
    return families


def ingestion_families(jobs: JobCounts, now: datetime) -> list[Metric]:
    """The ingestion queue as the store holds it at this scrape (one figure for every worker)."""
    states = GaugeMetricFamily(
        "botgpt_ingestion_jobs",
        "Ingestion jobs by state: queued, running (under a live lease), expired (the lease ran out).",
        labels=["state"],
    )
    for state, count in (("queued", jobs.queued), ("running", jobs.running), ("expired", jobs.expired)):
        states.add_metric([state], count)
    age = 0.0 if jobs.oldest_queued_at is None else max(0.0, (now - jobs.oldest_queued_at).total_seconds())
    oldest = _gauge("botgpt_ingestion_oldest_job_age_seconds", "Age of the oldest ingestion job (0: none).", age)
    return [states, oldest]


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=float(value))
