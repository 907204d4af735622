"""Server-Sent Events for streamed answers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from quart import Response

from botgpt.domain.conversations import ConversationService
from botgpt.domain.errors import BotgptError
from botgpt.domain.turns import PreparedTurn
from botgpt.entrypoints.http.accounting import Recorder
from botgpt.entrypoints.http.conversations_dto import turn_out
from botgpt.entrypoints.http.draining import current_drain
from botgpt.entrypoints.http.errors import log_detail, request_id, status_for

log = logging.getLogger("botgpt.http")


def event(name: str, data: Any) -> bytes:
    """One SSE event with a JSON payload."""
    payload = msgspec.json.encode(msgspec.to_builtins(data)).decode()
    return f"event: {name}\ndata: {payload}\n\n".encode()


def sse_response(events: AsyncIterator[bytes], farewell: bytes | None = None) -> Response:
    """A streaming response that proxies do not buffer. If the server shuts down before
    ``events`` end, they are closed (nothing is stored) and ``farewell`` is the last event:
    by default a turn stream's ``error`` event with the code ``shutting_down``."""
    if farewell is None:
        farewell = event("error", {"error": shutdown_error(request_id())})
    response = Response(current_drain().guard(events, farewell), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    response.timeout = None
    return response


def shutdown_error(current_request: str) -> dict[str, str]:
    """The error a stream ends with when the server shuts down before its answer is done."""
    message = "the server shut down before the answer was finished; nothing was stored, send it again"
    return {"code": "shutting_down", "message": message, "request_id": current_request}


async def turn_events(
    service: ConversationService, turn: PreparedTurn, current_request: str, on_done: Recorder
) -> AsyncIterator[bytes]:
    """``delta`` events as the answer is generated, then ``done`` with the stored turn, or
    ``error``. A client that disconnects cancels this generator: generation stops and
    nothing is stored. The generator runs outside the request context: it is handed the
    request id."""
    try:
        async for item in service.stream_turn(turn):
            if isinstance(item, str):
                yield event("delta", {"text": item})
            else:
                await on_done(item)
                yield event("done", turn_out(item))
    except BotgptError as error:
        if status_for(error) >= 500:
            log.error(
                "request %s stream failed: %s: %s%s", current_request, type(error).__name__, error, log_detail(error)
            )
        yield event("error", {"error": {"code": error.code, "message": str(error), "request_id": current_request}})
    except Exception:
        log.exception("request %s stream failed unexpectedly", current_request)
        internal = {"code": "internal_error", "message": "an internal error occurred; it has been logged"}
        yield event("error", {"error": {**internal, "request_id": current_request}})
