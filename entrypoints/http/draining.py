"""Graceful shutdown of one HTTP worker: refuse new work, let running work finish until a
deadline, then end the streams that are still running with an error event.

A streamed answer cut at the deadline is never stored: the turn is stored only when the
model has finished, and the stream is closed before that (as when a client disconnects).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from quart import Quart, Response, current_app, g, request

from botgpt.entrypoints.http.errors import error_response

log = logging.getLogger("botgpt.http")


class Drain:
    """The worker's shutdown state: how much work is in flight, and whether to refuse more."""

    def __init__(self) -> None:
        self.draining = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._cut: asyncio.Event | None = None

    def started(self) -> None:
        """A request or stream began."""
        self._in_flight += 1
        self._idle.clear()

    def finished(self) -> None:
        """A request or stream ended."""
        self._in_flight -= 1
        if self._in_flight <= 0:
            self._in_flight = 0
            self._idle.set()

    async def drain(self, grace_seconds: float) -> None:
        """Refuse new work, and return once the work in flight has ended, or ``grace_seconds``
        from now, when running streams are told to end (they do so at once)."""
        self.draining = True
        cut = self._cut_event()
        started, waiting = time.monotonic(), self._in_flight
        log.info("shutting down: %d requests in flight get up to %.0f s to finish", waiting, grace_seconds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace_seconds)
        if self._in_flight:
            log.warning("shutting down: ending %d requests still running after %.0f s", self._in_flight, grace_seconds)
            cut.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), 2.0)
        elif waiting:
            log.info("shutting down: in-flight work finished in %.1f s", time.monotonic() - started)

    def cut_now(self) -> None:
        """End the running streams now (a second signal: the operator will not wait)."""
        self.draining = True
        self._cut_event().set()

    async def guard(self, events: AsyncIterator[bytes], farewell: bytes) -> AsyncIterator[bytes]:
        """``events``, until they end or the shutdown deadline passes: then ``farewell`` (an
        error event) is sent and ``events`` is closed, which stops generation unstored."""
        cut = self._cut_event()
        self.started()
        try:
            async for chunk in _until(events, cut):
                yield chunk
            if cut.is_set():
                yield farewell
        finally:
            self.finished()

    def _cut_event(self) -> asyncio.Event:
        # Created inside the running loop (the app is built before the loop starts).
        if self._cut is None:
            self._cut = asyncio.Event()
        return self._cut


async def _until(events: AsyncIterator[bytes], cut: asyncio.Event) -> AsyncIterator[bytes]:
    # Each step of ``events`` runs in a task of its own, so that the deadline can interrupt
    # a step that waits on the model; the step is always settled before ``events`` is
    # closed (a client that disconnects cancels this generator mid-step).
    iterator = aiter(events)
    stop = asyncio.ensure_future(cut.wait())
    step: asyncio.Future[bytes] | None = None
    try:
        while True:
            step = asyncio.ensure_future(anext(iterator))
            await asyncio.wait({step, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not step.done():
                return
            try:
                chunk = step.result()
            except StopAsyncIteration:
                return
            yield chunk
    finally:
        stop.cancel()
        if step is not None and not step.done():
            step.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await step
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()


DRAIN_KEY = "botgpt.drain"
LIVENESS_PATH = "/health"  # answers while draining: the process is alive, only not ready
SHUTTING_DOWN = "the server is shutting down; retry shortly (or on another instance)"


def install_draining(app: Quart) -> Drain:
    """Count the app's requests, and refuse new ones once the worker drains (503)."""
    drain = Drain()
    app.extensions[DRAIN_KEY] = drain

    @app.before_request
    async def refuse_while_draining() -> Response | None:
        if drain.draining and request.path != LIVENESS_PATH:
            headers = {"Retry-After": "5", "Connection": "close"}
            return error_response(503, "shutting_down", SHUTTING_DOWN, headers)
        drain.started()
        g.drain_counted = True
        return None

    @app.teardown_request
    async def count_finished(_: BaseException | None) -> None:
        if g.pop("drain_counted", False):
            drain.finished()

    return drain


def current_drain() -> Drain:
    """The drain of the app serving this request."""
    drain: Drain = current_app.extensions[DRAIN_KEY]
    return drain
