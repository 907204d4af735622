"""A scriptable HTTP server on 127.0.0.1 standing in for Groq, Gemini and OpenAI-compatible servers.

The real SDKs talk to it over real sockets, so their request building, streaming parsers
and error types are exercised. Each response can inject a fault: a status with
Retry-After, a delay, malformed JSON, or a stream cut off mid-answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs


@attrs.define
class Reply:
    """One scripted response."""

    status: int = 200
    json_body: Any = None
    events: list[Any] | None = None  # server-sent events, each JSON-encoded (or a raw str)
    raw: bytes | None = None
    headers: dict[str, str] = attrs.field(factory=dict)
    delay: float = 0.0
    cut_after: int | None = None  # close the stream after this many events, with no end marker
    # Send the stream chunked, so that a cut leaves the body incomplete (a dropped connection,
    # which the client sees as a protocol error) rather than merely short.
    chunked: bool = False


@attrs.define
class Seen:
    method: str
    path: str
    body: Any
    headers: dict[str, str] = attrs.field(factory=dict)  # names in lower case


class LoopbackProvider:
    """Replies from per-path-fragment scripts; falls back to a default per fragment."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self._scripts: dict[str, deque[Reply]] = {}
        self._defaults: dict[str, Callable[[Any], Reply]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, fragment: str, *replies: Reply) -> None:
        with self._lock:
            self._scripts.setdefault(fragment, deque()).extend(replies)

    def default(self, fragment: str, reply: Reply | Callable[[Any], Reply]) -> None:
        """The reply when no script is left: fixed, or computed from the request body."""
        self._defaults[fragment] = reply if callable(reply) else (lambda body, fixed=reply: fixed)

    def count(self, fragment: str) -> int:
        return sum(1 for seen in self.requests if fragment in seen.path)

    def _next(self, path: str, body: Any) -> Reply:
        with self._lock:
            for fragment, queue in self._scripts.items():
                if fragment in path and queue:
                    return queue.popleft()
        for fragment, make in self._defaults.items():
            if fragment in path:
                return make(body)
        return Reply(status=404, json_body={"error": {"code": 404, "message": "no script", "status": "NOT_FOUND"}})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                headers = {name.lower(): value for name, value in self.headers.items()}
                provider.requests.append(Seen(self.command, self.path, body, headers))
                provider._respond(self, provider._next(self.path, body))

            do_GET = do_POST

        return Handler

    def _respond(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        time.sleep(reply.delay)
        if reply.events is not None:
            self._stream(handler, reply)
            return
        payload = reply.raw if reply.raw is not None else json.dumps(reply.json_body or {}).encode()
        handler.send_response(reply.status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def _stream(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        handler.send_response(reply.status)
        handler.send_header("Content-Type", "text/event-stream")
        if reply.chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        else:
            handler.send_header("Connection", "close")
        handler.end_headers()
        events = reply.events or []
        for index, event in enumerate(events):
            if reply.cut_after is not None and index >= reply.cut_after:
                handler.close_connection = True
                return  # chunked: without the last, empty chunk the body is incomplete
            data = event if isinstance(event, str) else json.dumps(event)
            frame = f"data: {data}\n\n".encode()
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame) if reply.chunked else frame)
            handler.wfile.flush()
        if reply.chunked:
            handler.wfile.write(b"0\r\n\r\n")
        handler.close_connection = True

    @contextmanager
    def running(self) -> Iterator[LoopbackProvider]:
        thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()


def capped(text: str, max_tokens: int | None) -> tuple[str, bool]:
    """``text`` cut to ``max_tokens`` words, as a provider honouring the cap would; and whether it was cut."""
    words = text.split(" ")
    if max_tokens is None or len(words) <= max_tokens:
        return text, False
    return " ".join(words[:max_tokens]), True


def groq_events(text: str, model: str = "llama-3.3-70b-versatile", finish: str = "stop") -> list[Any]:
    """An OpenAI-style chat completion stream, as Groq sends it, ending with [DONE]."""
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": model}
    words = text.split(" ")
    events: list[Any] = [
        {
            **base,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
        }
    ]
    for n, word in enumerate(words):
        piece = word if n == 0 else " " + word
        events.append({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
    usage = {"prompt_tokens": 12, "completion_tokens": len(words), "total_tokens": 12 + len(words)}
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}], "x_groq": {"usage": usage}})
    events.append("[DONE]")
    return events


def openai_events(text: str, model: str = "served-model", finish: str = "stop", usage: bool = True) -> list[Any]:
    """An OpenAI chat completion stream with ``stream_options.include_usage``: deltas, the
    finish, then a chunk with no choices carrying the usage (when ``usage``), and [DONE]."""
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": model}
    words = text.split(" ")
    events: list[Any] = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}]
    for n, word in enumerate(words):
        piece = word if n == 0 else " " + word
        events.append({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    if usage:
        counts = {"prompt_tokens": 11, "completion_tokens": len(words), "total_tokens": 11 + len(words)}
        events.append({**base, "choices": [], "usage": counts})
    events.append("[DONE]")
    return events


def openai_embeddings(texts: list[str], dimension: int, model: str = "served-embedder") -> dict[str, Any]:
    """An OpenAI embeddings response, its items in reverse order (the index says which is which)."""
    data = [
        {"object": "embedding", "index": i, "embedding": [float(len(text) % 7) / 7 + i] * dimension}
        for i, text in enumerate(texts)
    ]
    usage = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
    return {"object": "list", "data": data[::-1], "model": model, "usage": usage}


def gemini_events(text: str, finish: str = "STOP") -> list[Any]:
    """A Gemini streamGenerateContent (alt=sse) stream."""
    words = text.split(" ")
    events: list[Any] = []
    for n, word in enumerate(words):
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": (" " if n else "") + word}]}}
        if n == len(words) - 1:
            candidate["finishReason"] = finish
        events.append(
            {
                "candidates": [candidate],
                "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": n + 1},
            }
        )
    return events


def gemini_embeddings(count: int, dimension: int) -> dict[str, Any]:
    return {"embeddings": [{"values": [float(i % 7) / 7] * dimension} for i in range(count)]}


def gemini_error(code: int, status: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": status.lower(), "status": status}}
