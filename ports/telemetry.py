"""Telemetry ports: ``Metrics`` (counts and timings) and ``Tracer`` (spans), with no-op defaults.

The domain says what happened in its own words (a turn finished, a batch was embedded) and
never names a vendor; adapters turn that into Prometheus series and OpenTelemetry spans.
Every method is cheap and never raises: telemetry must not cost a user an answer.

Attributes are domain names (``conversation_id``, ``retriever``); an adapter may namespace
them. No attribute ever holds message text: text goes through ``Span.set_text``, which an
adapter records only where the deployment allows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol

AttributeValue = str | int | float | bool


class Metrics(Protocol):
    """Counters and histograms of what botgpt does, by domain-named events."""

    def request_served(self, method: str, route: str, status: int, seconds: float) -> None:
        """An HTTP request ended; ``route`` is its template (``/api/v1/conversations/<id>``), never the raw path."""
        ...

    def turn_finished(
        self, mode: str, provider: str, streamed: bool, prompt_tokens: int, completion_tokens: int, seconds: float
    ) -> None:
        """A turn's answer was delivered (and stored, unless stateless), ``seconds`` after the turn began."""
        ...

    def turn_failed(self, mode: str, code: str, streamed: bool) -> None:
        """A turn that reached the model ended without an answer; ``code`` is the error's code
        (``cancelled`` when the client went away)."""
        ...

    def first_token(self, mode: str, provider: str, streamed: bool, seconds: float) -> None:
        """The answer's first token came ``seconds`` after the model was asked."""
        ...

    def provider_retried(self, provider: str) -> None:
        """A remote provider call is being tried again (429, 5xx, timeout)."""
        ...

    def provider_failed(self, provider: str, code: str) -> None:
        """A provider could not answer a call; ``code`` is the domain error's code."""
        ...

    def provider_fell_back(self, from_provider: str, to_provider: str) -> None:
        """A provider failed and the next one of the chain is asked instead."""
        ...

    def retrieval_timed(self, retriever: str, seconds: float) -> None:
        """One retriever (a composite one, or each of its parts) ranked a scope."""
        ...

    def rerank_timed(self, reranker: str, seconds: float) -> None:
        """The reranker reordered the retrieved candidates."""
        ...

    def chunks_embedded(self, count: int) -> None:
        """Ingestion embedded and stored ``count`` more chunks."""
        ...

    def document_ingested(self, outcome: str) -> None:
        """A document's ingestion ended: ``ready`` or ``failed``."""
        ...

    def rate_limited(self, limit: str) -> None:
        """A key's request was refused by its ``requests`` (per minute) or ``tokens`` (per day) limit."""
        ...


class Span(Protocol):
    """One timed operation of a trace."""

    def set(self, key: str, value: AttributeValue) -> None:
        """Add an attribute. ``request_id`` and ``conversation_id`` also pass to the spans started under this one."""
        ...

    def set_text(self, key: str, text: str) -> None:
        """Add message text, which the adapter records only if the deployment allows it (it does not by default)."""
        ...

    def rename(self, name: str) -> None:
        """Change the span's name (an HTTP request is named by its route once it is routed)."""
        ...

    def fail(self, error: BaseException) -> None:
        """Mark the span failed by ``error``: its type and code are recorded, never its message."""
        ...

    def end(self) -> None:
        """End the span now; later calls do nothing."""
        ...


class Tracer(Protocol):
    """Starts spans. A span's parent is ``parent`` when given, else the span current here."""

    def start(self, name: str, parent: Span | None = None, **attributes: AttributeValue) -> Span:
        """A span begun now and not made current: for work that outlives one call (a turn is
        prepared, then answered, possibly as a stream). The caller ends it."""
        ...

    def span(
        self,
        name: str,
        parent: Span | None = None,
        carrier: Mapping[str, str] | None = None,
        **attributes: AttributeValue,
    ) -> AbstractContextManager[Span]:
        """A span current within the block, failed if the block raises, ended at its end.

        ``carrier`` holds a caller's trace context (HTTP headers such as ``traceparent``) for a
        span that continues a trace begun elsewhere. Not for blocks that span an async
        generator's ``yield``s: the current span follows the task, which may change between them.
        """
        ...

    def record(self, name: str, parent: Span, start: float, end: float, **attributes: AttributeValue) -> None:
        """A child of ``parent`` that ran from ``start`` to ``end`` (``time.time()`` seconds):
        an interval measured elsewhere, such as a model's wait in its queue."""
        ...


class NoMetrics:
    """Metrics that go nowhere: the default, and what ``metrics_access = off`` uses."""

    def request_served(self, method: str, route: str, status: int, seconds: float) -> None:
        pass

    def turn_finished(
        self, mode: str, provider: str, streamed: bool, prompt_tokens: int, completion_tokens: int, seconds: float
    ) -> None:
        pass

    def turn_failed(self, mode: str, code: str, streamed: bool) -> None:
        pass

    def first_token(self, mode: str, provider: str, streamed: bool, seconds: float) -> None:
        pass

    def provider_retried(self, provider: str) -> None:
        pass

    def provider_failed(self, provider: str, code: str) -> None:
        pass

    def provider_fell_back(self, from_provider: str, to_provider: str) -> None:
        pass

    def retrieval_timed(self, retriever: str, seconds: float) -> None:
        pass

    def rerank_timed(self, reranker: str, seconds: float) -> None:
        pass

    def chunks_embedded(self, count: int) -> None:
        pass

    def document_ingested(self, outcome: str) -> None:
        pass

    def rate_limited(self, limit: str) -> None:
        pass


class NoSpan:
    """A span that records nothing."""

    def set(self, key: str, value: AttributeValue) -> None:
        pass

    def set_text(self, key: str, text: str) -> None:
        pass

    def rename(self, name: str) -> None:
        pass

    def fail(self, error: BaseException) -> None:
        pass

    def end(self) -> None:
        pass


class NoTracer:
    """A tracer whose spans record nothing: the default, and botgpt's unless OTEL_* is set."""

    def start(self, name: str, parent: Span | None = None, **attributes: AttributeValue) -> Span:
        return NO_SPAN

    def span(
        self,
        name: str,
        parent: Span | None = None,
        carrier: Mapping[str, str] | None = None,
        **attributes: AttributeValue,
    ) -> AbstractContextManager[Span]:
        return _NO_BLOCK

    def record(self, name: str, parent: Span, start: float, end: float, **attributes: AttributeValue) -> None:
        pass


NO_METRICS: Metrics = NoMetrics()
NO_SPAN: Span = NoSpan()
_NO_BLOCK: AbstractContextManager[Span] = nullcontext(NO_SPAN)  # reusable: entering it does nothing
NO_TRACER: Tracer = NoTracer()
