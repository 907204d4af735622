"""What one turn reports about itself: its spans and timings while it runs, then its metrics
and one log line when it ends. Neither the log line nor any span holds message text.

A turn is prepared (checked, its sources retrieved) in one call and answered in another,
possibly as a stream whose steps run in different tasks; so the turn's span is started and
ended explicitly rather than held current, and the model call's phases (queue, prefill,
decode) are recorded once they are known.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs

from botgpt.domain.errors import BotgptError
from botgpt.domain.model import Completion, Conversation, Mode
from botgpt.ports.telemetry import NO_METRICS, NO_SPAN, NO_TRACER, Metrics, Span, Tracer

log = logging.getLogger("botgpt.turns")
CANCELLED = "cancelled"  # the client went away, or the server ended the stream


def error_code(error: BaseException) -> str:
    """The code a failure is counted under: a domain error's own, else ``cancelled`` or ``internal_error``."""
    if isinstance(error, BotgptError):
        return error.code
    if isinstance(error, GeneratorExit | asyncio.CancelledError):
        return CANCELLED
    return "internal_error"


@attrs.define
class TurnTrace:
    """One turn's telemetry, from the start of its preparation to its end (which comes once)."""

    metrics: Metrics = NO_METRICS
    tracer: Tracer = NO_TRACER
    span: Span = NO_SPAN
    mode: str = Mode.OPEN_CHAT.value
    conversation_id: str = ""
    started: float = attrs.Factory(time.monotonic)
    retrieval_seconds: float | None = None
    _call: Span = NO_SPAN
    _call_started: float = 0.0
    _call_wall: float = 0.0
    _first_token: float | None = None
    _answered: Completion | None = None
    _answered_at: float = 0.0
    _ended: bool = False

    @classmethod
    def begin(cls, metrics: Metrics, tracer: Tracer) -> TurnTrace:
        """A turn's telemetry, its span begun under the current one (the HTTP request's)."""
        return cls(metrics, tracer, tracer.start("turn"))

    @contextmanager
    def preparing(self) -> Iterator[TurnTrace]:
        """The preparation: a client error there ends the turn's span (no model was asked)."""
        try:
            yield self
        except BaseException as error:
            self.span.fail(error)
            self._end()
            raise

    def identify(self, conversation: Conversation, stored: bool) -> None:
        """Name the turn's conversation and mode (its spans carry them from here on)."""
        self.mode, self.conversation_id = conversation.mode.value, conversation.id
        self.span.set("conversation_id", conversation.id)
        self.span.set("mode", self.mode)
        self.span.set("stored", stored)

    @contextmanager
    def retrieval(self) -> Iterator[None]:
        """Finding the turn's sources: a span, and the time it took."""
        started = time.monotonic()
        with self.tracer.span("retrieval", parent=self.span):
            yield
        self.retrieval_seconds = time.monotonic() - started

    def model_called(self) -> None:
        """The model is being asked now."""
        self._call_started, self._call_wall = time.monotonic(), time.time()
        self._call = self.tracer.start("model.call", parent=self.span)

    def token(self) -> None:
        """A piece of the answer arrived (only the first one is timed)."""
        if self._first_token is None:
            self._first_token = time.monotonic()

    def model_answered(self, completion: Completion) -> None:
        """The model's whole answer arrived: its call's phases become spans."""
        self._answered, self._answered_at = completion, time.monotonic()
        phases = self._phases(completion)
        self.span.set_text("answer", completion.text)
        self._call.set("provider", _provider(completion))
        self._call.set("model", completion.model)
        self._call.set("prompt_tokens", completion.prompt_tokens)
        self._call.set("completion_tokens", completion.completion_tokens)
        self._call.set("finish_reason", completion.finish_reason.value)
        for name, (start, end) in phases.items():
            self.tracer.record(f"model.{name}", self._call, self._wall(start), self._wall(end))
        self._call.end()

    def succeeded(self, streamed: bool) -> None:
        """The answer was delivered (and stored, unless the turn is stateless)."""
        completion = self._answered
        if completion is None or self._ended:
            return
        provider, total = _provider(completion), time.monotonic() - self.started
        self.metrics.turn_finished(
            self.mode, provider, streamed, completion.prompt_tokens, completion.completion_tokens, total
        )
        first_token = self._first_token_seconds(completion)
        if first_token is not None:
            self.metrics.first_token(self.mode, provider, streamed, first_token)
        self._log("answered", streamed, provider, completion)
        self._end()

    def failed(self, error: BaseException, streamed: bool) -> None:
        """The turn ended without an answer (the model failed, or the client left)."""
        if self._ended:
            return
        code = error_code(error)
        self._call.fail(error)
        self._call.end()
        self.span.fail(error)
        self.metrics.turn_failed(self.mode, code, streamed)
        self._log(code, streamed, _provider(self._answered) if self._answered else "none", self._answered)
        self._end()

    def _end(self) -> None:
        self._ended = True
        self.span.end()

    def _first_token_seconds(self, completion: Completion) -> float | None:
        # A stream's first token is timed here; a whole answer's only as the model reports it.
        if self._first_token is not None:
            return self._first_token - self._call_started
        return completion.first_token_seconds

    def _phases(self, completion: Completion) -> dict[str, tuple[float, float]]:
        """The call's phases as (start, end) monotonic times, as far as they are known."""
        start, end = self._call_started, time.monotonic()
        first = self._first_token_seconds(completion)
        queued = completion.queued_seconds
        phases: dict[str, tuple[float, float]] = {}
        if queued is not None:
            phases["queue"] = (start, start + queued)
        if first is not None:
            phases["prefill"] = (start + (queued or 0.0), start + first)
            phases["decode"] = (start + first, end)
        return phases

    def _wall(self, moment: float) -> float:
        return self._call_wall + (moment - self._call_started)

    def _log(self, outcome: str, streamed: bool, provider: str, completion: Completion | None) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        timings = self.timings(completion)
        shown = " ".join(f"{name}={value:.3f}s" for name, value in timings.items() if value is not None)
        tokens = {"prompt": completion.prompt_tokens, "completion": completion.completion_tokens} if completion else {}
        extra: dict[str, Any] = {
            "event": "turn",
            "conversation_id": self.conversation_id,
            "mode": self.mode,
            "provider": provider,
            "streamed": streamed,
            "outcome": outcome,
            "timings": {f"{name}_seconds": value for name, value in timings.items()},
            "tokens": tokens,
        }
        used = f" tokens={tokens['prompt']}+{tokens['completion']}" if tokens else ""
        log.info(
            "turn %s %s: mode=%s provider=%s streamed=%s %s%s",
            self.conversation_id or "-",
            outcome,
            self.mode,
            provider,
            str(streamed).lower(),
            shown,
            used,
            extra=extra,
        )

    def timings(self, completion: Completion | None) -> dict[str, float | None]:
        """The turn's timings in seconds, None where unknown: queue, retrieval, first token,
        prefill (first token less the queue), decode, and total."""
        queue = completion.queued_seconds if completion else None
        first = self._first_token_seconds(completion) if completion else None
        decode = None
        if first is not None and self._answered is not None:
            decode = self._answered_at - self._call_started - first
        return {
            "queue": queue,
            "retrieval": self.retrieval_seconds,
            "first_token": first,
            "prefill": None if first is None else first - (queue or 0.0),
            "decode": decode,
            "total": time.monotonic() - self.started,
        }


def _provider(completion: Completion) -> str:
    return completion.provider or completion.model
