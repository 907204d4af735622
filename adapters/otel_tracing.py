"""The ``Tracer`` port on the OpenTelemetry SDK, configured only by the standard ``OTEL_*``
environment variables (``otel_environment.py`` reads which exporters they ask for). The
exporter, the batch processor, the sampler and the resource read their own ``OTEL_*``
variables, as the SDK documents them.

Span attributes are namespaced ``botgpt.*``; ``request_id`` and ``conversation_id`` pass from
a span to every span started under it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from importlib.metadata import entry_points

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Status, StatusCode

from botgpt.adapters.otel_environment import exporter_names, tracing_requested
from botgpt.ports.telemetry import AttributeValue, Span

PREFIX = "botgpt."
INHERITED = frozenset({"request_id", "conversation_id"})
EXPORTER_GROUP = "opentelemetry_traces_exporter"


class OtelSpan:
    """An OpenTelemetry span behind the port, with the attributes its children inherit."""

    def __init__(self, span: trace.Span, inherited: dict[str, AttributeValue], record_text: bool) -> None:
        self.otel = span
        self.inherited = inherited
        self._record_text = record_text
        self._ended = False

    def set(self, key: str, value: AttributeValue) -> None:
        if self._ended:
            return
        self.otel.set_attribute(PREFIX + key, value)
        if key in INHERITED:
            self.inherited[key] = value

    def set_text(self, key: str, text: str) -> None:
        if self._record_text:
            self.set(f"text.{key}", text)

    def rename(self, name: str) -> None:
        if not self._ended:
            self.otel.update_name(name)

    def fail(self, error: BaseException) -> None:
        if self._ended:
            return
        kind = type(error).__name__
        code = str(getattr(error, "code", "") or kind)
        self.otel.set_attribute("error.type", kind)
        self.otel.set_attribute(PREFIX + "error_code", code)
        self.otel.set_status(Status(StatusCode.ERROR, code))  # the code, never the message

    def end(self) -> None:
        if not self._ended:
            self._ended = True
            self.otel.end()

    def end_at(self, seconds: float) -> None:
        """End the span at ``seconds`` (``time.time()``), for an interval measured elsewhere."""
        if not self._ended:
            self._ended = True
            self.otel.end(end_time=_nanoseconds(seconds))


# The span current in this task: what a span started without a parent hangs under.
_CURRENT: ContextVar[OtelSpan | None] = ContextVar("botgpt_current_span", default=None)


class OtelTracer:
    """Spans of one ``TracerProvider``; message text only with ``record_text``."""

    def __init__(self, provider: trace.TracerProvider, record_text: bool = False) -> None:
        self.provider = provider
        self._tracer = provider.get_tracer("botgpt")
        self._record_text = record_text

    def start(self, name: str, parent: Span | None = None, **attributes: AttributeValue) -> OtelSpan:
        return self._start(name, parent, None, attributes)

    @contextlib.contextmanager
    def span(
        self,
        name: str,
        parent: Span | None = None,
        carrier: Mapping[str, str] | None = None,
        **attributes: AttributeValue,
    ) -> Iterator[OtelSpan]:
        current = self._start(name, parent, carrier, attributes)
        token = _CURRENT.set(current)
        try:
            yield current
        except BaseException as error:
            current.fail(error)
            raise
        finally:
            with contextlib.suppress(ValueError):  # reset from another context: the block spanned tasks
                _CURRENT.reset(token)
            current.end()

    def record(self, name: str, parent: Span, start: float, end: float, **attributes: AttributeValue) -> None:
        self._start(name, parent, None, attributes, start=start).end_at(end)

    def _start(
        self,
        name: str,
        parent: Span | None,
        carrier: Mapping[str, str] | None,
        attributes: Mapping[str, AttributeValue],
        start: float | None = None,
    ) -> OtelSpan:
        above = parent if isinstance(parent, OtelSpan) else _CURRENT.get()
        context: Context | None = None
        if above is not None:
            context = trace.set_span_in_context(above.otel)
        else:
            # A root span continues the caller's trace (W3C traceparent), if it sent one.
            context = propagate.extract(dict(carrier)) if carrier else None
        inherited = dict(above.inherited) if above is not None else {}
        inherited.update({key: value for key, value in attributes.items() if key in INHERITED})
        values = {PREFIX + key: value for key, value in {**inherited, **attributes}.items()}
        span = self._tracer.start_span(
            name, context=context, attributes=values, start_time=None if start is None else _nanoseconds(start)
        )
        return OtelSpan(span, inherited, self._record_text)


def _nanoseconds(seconds: float) -> int:
    return int(seconds * 1e9)


def exporter(name: str) -> SpanExporter:
    """The installed span exporter registered as ``name`` (each reads its own ``OTEL_*`` settings)."""
    found = entry_points(group=EXPORTER_GROUP, name=name)
    if not found:
        hint = " (pip install 'botgpt[otel]')" if name.startswith("otlp") else ""
        raise ValueError(f"OTEL_TRACES_EXPORTER asks for {name!r}, but no such span exporter is installed{hint}")
    made: SpanExporter = next(iter(found)).load()()
    return made


def service_resource(version: str) -> Resource:
    """The resource ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` describe; ``botgpt`` unless named."""
    detected = Resource.create({"service.version": version})
    if str(detected.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        detected = detected.merge(Resource({SERVICE_NAME: "botgpt"}))
    return detected


def traced_provider(environ: Mapping[str, str], version: str) -> TracerProvider | None:
    """A ``TracerProvider`` exporting as ``environ`` asks (in batches), or None when it asks for no traces."""
    if not tracing_requested(environ):
        return None
    exporters = [exporter(name) for name in exporter_names(environ)]
    provider = TracerProvider(resource=service_resource(version))  # the sampler reads OTEL_TRACES_SAMPLER
    for made in exporters:
        provider.add_span_processor(BatchSpanProcessor(made))  # which reads OTEL_BSP_*
    return provider
