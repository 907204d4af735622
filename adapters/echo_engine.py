"""A tiny engine that answers by echoing the last user message, one word (token) per step.

It honours ``max_tokens`` (in words) and stop sequences as the real engine does; it samples
nothing, so temperature, top_p and seed change nothing.

It runs in the real engine process, behind the real socket and supervisor, so the server's
process handling can be tested (and a UI developed) without loading a model. Select it with
``engine_factory = "botgpt.adapters.echo_engine:build"``.
"""

from __future__ import annotations

import time
from typing import Any

import attrs

from botgpt.adapters.engine_protocol import CUT_AT_LENGTH, STOPPED, TOO_LARGE, Job
from botgpt.domain.stopping import StopScanner


@attrs.define
class _Running:
    job: Job
    words: list[str]
    prompt_tokens: int
    stops: StopScanner
    sent: int = 0
    text: list[str] = attrs.field(factory=list)


class EchoEngine:
    """Echoes ``"echo: <last user message>"`` word by word; ``step_seconds`` paces it."""

    def __init__(self, slots: int = 4, step_seconds: float = 0.005, context_window: int = 2048) -> None:
        self.slots = slots
        self.step_seconds = step_seconds
        self.context_window = context_window
        self._running: list[_Running] = []

    def load(self) -> None:
        """Nothing to load."""

    @property
    def free_slots(self) -> int:
        return self.slots - len(self._running)

    @property
    def active(self) -> int:
        return len(self._running)

    def admit(self, job: Job) -> None:
        prompt_tokens = sum(len(m["content"].split()) + 4 for m in job.messages)
        if prompt_tokens >= self.context_window:
            job.fail(TOO_LARGE, "the prompt does not fit the model's context window")
            return
        last = next((m["content"] for m in reversed(job.messages) if m["role"] == "user"), "")
        self._running.append(_Running(job, ["echo:", *last.split()], prompt_tokens, StopScanner(job.stop)))

    def step(self) -> None:
        time.sleep(self.step_seconds)
        for running in list(self._running):
            self.on_step(running.job)
            if running.job.cancelled.is_set():
                self._running.remove(running)
                continue
            word = running.words[running.sent]
            self._emit(running, word if running.sent == 0 else " " + word)
            running.sent += 1
            if running.stops.stopped or running.sent >= len(running.words):
                self._finish(running, STOPPED)
            elif running.sent >= running.job.max_tokens:
                self._finish(running, CUT_AT_LENGTH)

    @staticmethod
    def _emit(running: _Running, piece: str) -> None:
        if text := running.stops.feed(piece):
            running.text.append(text)
            running.job.token(text)

    def _finish(self, running: _Running, reason: str) -> None:
        self._running.remove(running)
        if held := running.stops.flush():
            running.text.append(held)
            running.job.token(held)
        running.job.done("".join(running.text), running.prompt_tokens, running.sent, slot=0, finish_reason=reason)

    def on_step(self, job: Job) -> None:
        """A hook for test engines that misbehave at a chosen moment."""


def build(config: dict[str, Any]) -> EchoEngine:
    """The echo engine with the configured number of slots."""
    return EchoEngine(slots=int(config.get("llama_slots", 4)), context_window=int(config.get("llama_n_ctx", 2048)))
