"""``ChatModel`` for the local model, which runs in a supervised engine process.

Each request opens its own connection to the engine's Unix socket; closing it (a client
that went away, a cancelled task) cancels the request in the engine. When the engine dies
mid-answer, the connection drops and the turn fails as ``ModelUnavailable``: nothing of it
is stored, and the supervisor restarts the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from botgpt.adapters.engine_protocol import BUSY, DONE, ERROR, QUEUED, STARTED, TOKEN, TOO_LARGE, decode, encode
from botgpt.adapters.engine_status import READY, STARTING, ask_status, read_status
from botgpt.adapters.engine_supervisor import EngineSupervisor
from botgpt.domain.errors import MessageTooLarge, ModelFailed, ModelUnavailable
from botgpt.domain.model import ChatMessage, Completion, FinishReason, GenerationOptions

log = logging.getLogger(__name__)
STREAM_LIMIT = 1 << 20  # one protocol line (a whole answer, at most) fits well within this


class EngineChatModel:
    """Talks to an engine at ``run_dir``; starts and owns one there when given a supervisor.

    A queued request has no deadline of its own: the queue is bounded, and a hung engine is
    killed by its supervisor after ``stall_seconds``, which drops every connection at once.
    A running request also gives up by itself if it hears nothing for half as long again
    (for an engine whose supervisor is gone).
    """

    def __init__(
        self,
        name: str,
        context_window: int,
        run_dir: Path,
        *,
        supervisor: EngineSupervisor | None = None,
        stall_seconds: float = 30.0,
        retry_after: float = 2.0,
    ) -> None:
        self._name = name
        self._context_window = context_window
        self.run_dir = run_dir
        self.supervisor = supervisor
        self.stall_seconds = stall_seconds
        self.retry_after = retry_after

    @property
    def name(self) -> str:
        return self._name

    @property
    def context_window(self) -> int:
        return self._context_window

    @property
    def socket_path(self) -> Path:
        return self.run_dir / "engine.sock"

    async def load(self) -> None:
        """Start the owned engine (in the background: ``readiness`` reports when it is up)."""
        if self.supervisor is not None:
            await asyncio.to_thread(self.supervisor.start)

    async def close(self) -> None:
        """Stop the owned engine."""
        if self.supervisor is not None:
            await asyncio.to_thread(self.supervisor.stop)

    async def readiness(self) -> str:
        """``ok`` once the engine answers; otherwise its supervisor's state (``starting``,
        ``restarting``, ``crash_loop``)."""
        try:
            status = await asyncio.to_thread(ask_status, self.socket_path, 2.0)
        except (OSError, ValueError):
            state = str(read_status(self.run_dir).get("state", STARTING))
            return STARTING if state == READY else state
        return "stalled" if float(status.get("stalled_for", 0)) > self.stall_seconds else "ok"

    async def engine_status(self, patience: float = 0.5) -> dict[str, Any]:
        """The engine's load, for metrics: ``up``, and when it answers ``waiting`` (its queue),
        ``active`` and ``slots``, ``refused`` (since it started); ``restarts`` by its supervisor."""
        restarts = int(read_status(self.run_dir).get("restarts") or 0)
        try:
            status = await asyncio.to_thread(ask_status, self.socket_path, patience)
        except (OSError, ValueError):
            return {"up": False, "restarts": restarts}
        return {**status, "up": True, "restarts": restarts}

    async def complete(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Completion:
        # Closed at once rather than at garbage collection: the connection goes with it.
        async with contextlib.aclosing(self.stream(messages, options)) as events:
            async for item in events:
                if isinstance(item, Completion):
                    return item
        raise ModelFailed("the local model returned no answer")

    async def stream(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncGenerator[str | Completion, None]:
        asked = time.monotonic()
        reader, writer = await self._connect()
        try:
            request = {
                "op": "generate",
                "messages": [{"role": m.role.value, "content": m.content} for m in messages],
                "max_tokens": options.max_tokens,
                "temperature": options.temperature,
                "top_p": options.top_p,
                "seed": options.seed,
                "stop": list(options.stop),
            }
            writer.write(encode(request))
            await writer.drain()
            async for item in self._events(reader, asked):
                yield item
        finally:
            writer.close()  # the engine reads EOF and cancels whatever is left of the request
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.open_unix_connection(str(self.socket_path), limit=STREAM_LIMIT)
        except OSError as error:
            raise self._unavailable("the local model is not running") from error

    async def _events(self, reader: asyncio.StreamReader, asked: float) -> AsyncIterator[str | Completion]:
        patience = self.stall_seconds * 1.5 + 1.0
        deadline: float | None = patience
        started: float | None = None  # when a slot took the request: the queue wait ends
        first: float | None = None
        while True:
            event = await self._next(reader, deadline)
            kind = event.get("event")
            if kind == QUEUED:
                deadline = None
            elif kind == STARTED:
                deadline, started = patience, time.monotonic()
            elif kind == TOKEN:
                first = first or time.monotonic()
                yield str(event["text"])
            elif kind == DONE:
                yield attrs.evolve(
                    self._completion(event),
                    queued_seconds=None if started is None else started - asked,
                    first_token_seconds=None if first is None else first - asked,
                )
                return
            elif kind == ERROR:
                raise self._error(event)

    async def _next(self, reader: asyncio.StreamReader, deadline: float | None) -> dict[str, Any]:
        try:
            line = await asyncio.wait_for(reader.readline(), deadline)
        except TimeoutError as error:
            raise self._unavailable(f"the local model produced nothing for {deadline:.0f} s") from error
        except (OSError, ValueError) as error:
            await self._until_supervisor_noticed()
            raise self._unavailable("the local model stopped while answering") from error
        if not line:
            await self._until_supervisor_noticed()
            raise self._unavailable("the local model stopped while answering")
        try:
            return decode(line)
        except ValueError as error:
            raise self._unavailable("the local model sent an unreadable reply") from error

    def _completion(self, event: dict[str, Any]) -> Completion:
        return Completion(
            text=str(event["text"]).strip(),
            model=self._name,
            prompt_tokens=int(event["prompt_tokens"]),
            completion_tokens=int(event["completion_tokens"]),
            finish_reason=FinishReason(event.get("finish_reason", FinishReason.STOP)),
        )

    def _error(self, event: dict[str, Any]) -> Exception:
        code, message = event.get("code"), str(event.get("message", "the local model failed"))
        if code == TOO_LARGE:
            return MessageTooLarge("the conversation does not fit the model's context window")
        if code == BUSY:
            return ModelUnavailable("the local model is busy; try again shortly", retry_after=self.retry_after)
        return ModelFailed(message)

    async def _until_supervisor_noticed(self, patience: float = 2.0) -> None:
        """Give the supervisor a moment to reap the engine, so the log can name its exit."""
        deadline = asyncio.get_running_loop().time() + patience
        # The supervisor lives in another process: its state file can only be polled.
        while read_status(self.run_dir).get("state") == READY and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)

    def _unavailable(self, message: str) -> ModelUnavailable:
        status = read_status(self.run_dir)
        detail = f"engine {status.get('state')}"
        if "last_exit" in status:
            detail += f" after {status['last_exit']} (pid {status.get('pid')})"
        retry_after = max(self.retry_after, float(status.get("retry_in") or 0.0))
        return ModelUnavailable(f"{message}; try again shortly", retry_after=retry_after, detail=detail)
