"""An echo engine for the chat page's tests that keeps the message's layout.

``EchoEngine`` splits the message into words and joins them with spaces, so a Markdown code
fence never survives the echo. This one streams the last user message back verbatim (newlines
and indentation kept), a word with its leading whitespace per step, after ``echo:``. The server
under test runs it with ``BOTGPT_ENGINE_FACTORY=tests.browser.engines:markdown_echo``.
"""

from __future__ import annotations

import re
import time
from typing import Any

from botgpt.adapters.echo_engine import EchoEngine
from botgpt.adapters.engine_protocol import CUT_AT_LENGTH, STOPPED, Job


class MarkdownEcho(EchoEngine):
    """Echoes ``"echo:"`` and the last user message exactly as it was written."""

    def admit(self, job: Job) -> None:
        super().admit(job)
        running = next((r for r in self._running if r.job is job), None)
        if running is not None:
            last = next((m["content"] for m in reversed(job.messages) if m["role"] == "user"), "")
            running.words = ["echo:", *re.findall(r"\s+\S+", " " + last)]

    def step(self) -> None:
        time.sleep(self.step_seconds)
        for running in list(self._running):
            if running.job.cancelled.is_set():
                self._running.remove(running)
                continue
            self._emit(running, running.words[running.sent])  # its own whitespace, not a space
            running.sent += 1
            if running.stops.stopped or running.sent >= len(running.words):
                self._finish(running, STOPPED)
            elif running.sent >= running.job.max_tokens:
                self._finish(running, CUT_AT_LENGTH)


def markdown_echo(config: dict[str, Any]) -> MarkdownEcho:
    """The verbatim echo at a reader's pace (40 ms a word), so a test can look mid-answer."""
    return MarkdownEcho(slots=int(config.get("llama_slots", 4)), step_seconds=0.04)
