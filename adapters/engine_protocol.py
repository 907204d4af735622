"""What the HTTP side and the engine process say to each other, and what an engine is.

The wire is a Unix stream socket carrying one JSON object per line. A client opens one
connection per request and sends one ``generate`` (or ``status``) line; the engine answers
with events on the same connection. Closing the connection cancels the request: a queued
request leaves the queue, a running one stops at its next token.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, Protocol

import attrs

# Events the engine sends for a generate request, in this order: queued?, started, token*,
# then exactly one of done or error.
QUEUED, STARTED, TOKEN, DONE, ERROR = "queued", "started", "token", "done", "error"
# Error codes: the queue is full, the prompt does not fit, the engine failed on this request.
BUSY, TOO_LARGE, FAILED, BAD_REQUEST = "busy", "too_large", "failed", "bad_request"
# Why a done answer ended: the model finished (or reached a stop sequence), or the token cap.
STOPPED, CUT_AT_LENGTH = "stop", "length"


def encode(message: dict[str, Any]) -> bytes:
    """One protocol line."""
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    """A protocol line as a dict; raises ``ValueError`` for anything else."""
    message = json.loads(line)
    if not isinstance(message, dict):
        raise ValueError("a protocol line must be a JSON object")
    return message


@attrs.define
class Job:
    """One generation request inside the engine process.

    ``emit`` hands an event to the connection that asked; it is safe to call from the
    engine thread. ``cancelled`` is set when that connection closes. ``top_p`` and ``seed``
    left ``None`` take the engine's defaults; the answer ends before the first of ``stop``.
    """

    messages: list[dict[str, str]]
    max_tokens: int
    temperature: float
    emit: Callable[[dict[str, Any]], None]
    top_p: float | None = None
    seed: int | None = None
    stop: tuple[str, ...] = ()
    cancelled: threading.Event = attrs.field(factory=threading.Event)

    def token(self, text: str) -> None:
        self.emit({"event": TOKEN, "text": text})

    def done(
        self,
        text: str,
        prompt_tokens: int,
        completion_tokens: int,
        slot: int,
        reused: int = 0,
        finish_reason: str = STOPPED,
    ) -> None:
        """The answer is complete; ``reused`` prompt tokens came from the slot's KV cache.
        ``finish_reason`` is ``stop``, or ``length`` when ``max_tokens`` (or the context) cut it."""
        self.emit(
            {
                "event": DONE,
                "text": text,
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "slot": slot,
                "reused": reused,
                "finish_reason": finish_reason,
            }
        )

    def fail(self, code: str, message: str) -> None:
        self.emit({"event": ERROR, "code": code, "message": message})


class Engine(Protocol):
    """A model that generates for several jobs at once, driven by one thread.

    The engine server calls ``admit`` while ``free_slots`` is positive and ``step`` while
    ``active`` is positive. Every admitted job ends with ``done`` or ``fail`` (or is dropped
    silently once cancelled); ``step`` advances each active job by at most one token.
    """

    def load(self) -> None:
        """Load the weights. Called once, before anything else."""
        ...

    @property
    def free_slots(self) -> int:
        """How many more jobs ``admit`` accepts now."""
        ...

    @property
    def active(self) -> int:
        """Jobs admitted and not yet finished."""
        ...

    def admit(self, job: Job) -> None:
        """Take a job into a free slot (the one whose cached prompt shares most with it)."""
        ...

    def step(self) -> None:
        """One scheduling step: a batched decode over every active job."""
        ...


EngineFactory = Callable[[dict[str, Any]], Engine]
