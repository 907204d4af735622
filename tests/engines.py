"""Engines that misbehave on request, for fault injection through the real engine process.

The server under test runs them with ``BOTGPT_ENGINE_FACTORY=tests.engines:faulty``. They
echo like ``EchoEngine`` unless the last user message asks for a fault.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from botgpt.adapters.echo_engine import EchoEngine
from botgpt.adapters.engine_protocol import Job

SEGFAULT, HANG, RAISE = "please segfault", "please hang", "please raise"


class FaultyEngine(EchoEngine):
    """Segfaults, hangs (holding the engine thread) or raises at the first step of a job that asks."""

    def on_step(self, job: Job) -> None:
        last = job.messages[-1]["content"]
        if SEGFAULT in last:
            os.kill(os.getpid(), signal.SIGSEGV)
        if HANG in last:
            time.sleep(3600)
        if RAISE in last:
            raise RuntimeError("a bug in the engine")


def faulty(config: dict[str, Any]) -> FaultyEngine:
    """A faulty echo engine, paced so that a test can act in the middle of an answer."""
    return FaultyEngine(slots=int(config.get("llama_slots", 4)), step_seconds=0.02)


def crashes_at_start(config: dict[str, Any]) -> FaultyEngine:
    """An engine that dies while loading, every time: a crash loop."""
    os.kill(os.getpid(), signal.SIGSEGV)
    raise AssertionError("unreachable")


def paced_echo(config: dict[str, Any]) -> EchoEngine:
    """The echo engine at a reader's pace (30 ms a word), so a test can act mid-answer."""
    return EchoEngine(slots=int(config.get("llama_slots", 4)), step_seconds=0.03)
