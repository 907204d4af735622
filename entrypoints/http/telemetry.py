"""Each HTTP request's span, metrics and access line, and its request id in every log line.

An ASGI middleware around the app sees the whole request, a streamed body included: it
starts the request's span (continuing the caller's trace when it sends ``traceparent``) and,
once the response has ended, counts the request by route template and status and logs one
access line. A hook inside the app tells the middleware the matched route (the template,
never the raw path, whose ids would make a series per conversation) and the request id.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from collections.abc import Callable
from typing import Any, cast

from quart import Quart, g, request

from botgpt.entrypoints.logs import REQUEST_ID
from botgpt.ports.telemetry import NO_TRACER, Metrics, Span, Tracer

ROUTE_KEY, SPAN_KEY, REQUEST_KEY = "botgpt.route", "botgpt.span", "botgpt.request_id"
TRACER_KEY = "botgpt.tracer"
UNMATCHED = "unmatched"  # no route matched: 404, or a 405 on a known path
CLIENT_GONE = 499  # the client went away before any response (nginx's convention)
TRACE_HEADERS = (b"traceparent", b"tracestate", b"baggage")
QUIET_ROUTES = frozenset({"/health", "/ready", "/metrics"})  # probes and scrapes: access lines at DEBUG
CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
access_log = logging.getLogger("botgpt.access")

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


class TelemetryMiddleware:
    """Wraps the app's ASGI callable (``app.asgi_app``); ``tracer`` is asked per request,
    because the tracer starts with the app's resources, after the middleware is installed."""

    def __init__(self, inner: Callable[[Scope, Receive, Send], Any], metrics: Metrics, tracer: Callable[[], Tracer]):
        self.inner, self.metrics, self.tracer = inner, metrics, tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        started, method = time.monotonic(), str(scope["method"])
        status: int | None = None

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope.get("headers", ())
            if name in TRACE_HEADERS
        }
        with self.tracer().span(f"HTTP {method}", carrier=carrier, method=method) as span:
            scope[SPAN_KEY] = span
            try:
                await self.inner(scope, receive, sending)
            except asyncio.CancelledError:
                status = status or CLIENT_GONE
                raise
            except Exception:
                status = status or 500
                raise
            finally:
                self._served(scope, span, method, status or 500, time.monotonic() - started)

    def _served(self, scope: Scope, span: Span, method: str, status: int, seconds: float) -> None:
        route = scope.get(ROUTE_KEY) or UNMATCHED
        span.rename(f"{method} {route}")
        span.set("route", route)
        span.set("status", status)
        self.metrics.request_served(method, route, status, seconds)
        level = logging.DEBUG if route in QUIET_ROUTES else logging.INFO
        if access_log.isEnabledFor(level):
            details = {
                "event": "request",
                "method": method,
                "route": route,
                "path": scope.get("path", ""),  # never the query string: it may hold a user's words
                "status": status,
                "duration_seconds": round(seconds, 6),
                "request_id": scope.get(REQUEST_KEY),
            }
            access_log.log(level, "%s %s %d %.3fs", method, details["path"], status, seconds, extra=details)


@functools.cache
def route_template(rule: str) -> str:
    """A rule as people read it: ``<not_import:conversation_id>`` is ``<conversation_id>``."""
    return CONVERTER.sub(r"<\1>", rule)


async def tag_request() -> None:
    """Tell the middleware the matched route and request id; give the id to this request's
    log lines and spans (a before-request hook: after the id is assigned)."""
    rule = request.url_rule
    scope = cast(Scope, request.scope)  # the middleware's own scope, which it reads back
    scope[ROUTE_KEY] = route_template(rule.rule) if rule is not None else None
    scope[REQUEST_KEY] = g.request_id
    REQUEST_ID.set(g.request_id)
    span: Span | None = scope.get(SPAN_KEY)
    if span is not None:
        span.set("request_id", g.request_id)


def install_telemetry(app: Quart, metrics: Metrics) -> None:
    """Wrap ``app`` in the middleware and add its hook; the tracer is the one the app's
    start-up puts in ``app.extensions[TRACER_KEY]`` (none until then)."""
    inner = cast(Callable[[Scope, Receive, Send], Any], app.asgi_app)
    middleware = TelemetryMiddleware(inner, metrics, lambda: app.extensions.get(TRACER_KEY, NO_TRACER))
    app.asgi_app = cast(Any, middleware)  # type: ignore[method-assign]
    app.before_request(tag_request)
