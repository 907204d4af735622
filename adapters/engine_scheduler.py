"""The engine process's scheduler: a bounded FIFO of jobs feeding the engine from one thread."""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import threading
import time

from botgpt.adapters.engine_protocol import FAILED, STARTED, Engine, Job

log = logging.getLogger("botgpt.engine")


class Scheduler:
    """Feeds jobs to the engine, first come first served, from one thread.

    Waiting jobs sit in a FIFO of bounded depth; a job that finds it full is refused at
    once. A job's time starts when it is admitted, so waiting costs no one's deadline.
    """

    def __init__(self, engine: Engine, queue_depth: int) -> None:
        self.engine = engine
        self.queue_depth = queue_depth
        self._waiting: collections.deque[Job] = collections.deque()
        self._wake = threading.Condition()
        self._stopping = False
        self._busy_since: float | None = None  # when the current step began
        self.refused = 0  # jobs turned away by a full queue, since this engine started

    def submit(self, job: Job) -> int | None:
        """Queue ``job``; its place in the queue (0 = next), or ``None`` if the queue is full."""
        with self._wake:
            if len(self._waiting) - self.engine.free_slots >= self.queue_depth:
                self.refused += 1
                return None
            self._waiting.append(job)
            self._wake.notify()
            return len(self._waiting) - 1

    def cancel(self, job: Job) -> None:
        """Forget a job whose client left; the engine drops a running one at its next step."""
        job.cancelled.set()
        with self._wake, contextlib.suppress(ValueError):
            self._waiting.remove(job)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def stalled_for(self) -> float:
        """Seconds the current step has been running (0 when idle): a hang shows here."""
        started = self._busy_since
        return 0.0 if started is None else time.monotonic() - started

    def run(self) -> None:
        """The engine thread's loop, until ``stop``."""
        while True:
            with self._wake:
                self._admit_waiting()
                while not self._stopping and not self.engine.active and not self._waiting:
                    self._wake.wait()
                if self._stopping:
                    return
                self._admit_waiting()
            if self.engine.active:
                self._busy_since = time.monotonic()
                self._step()
                self._busy_since = None

    def _step(self) -> None:
        try:
            self.engine.step()
        except Exception:
            # The engine's state is unknown now: exit, and let the supervisor start afresh
            # (the connections drop, so every client gets its clean 503 at once).
            log.exception("the engine failed in a scheduling step; exiting for a restart")
            logging.shutdown()
            os._exit(70)

    def _admit_waiting(self) -> None:
        while self._waiting and self.engine.free_slots > 0:
            job = self._waiting.popleft()
            if not job.cancelled.is_set():
                job.emit({"event": STARTED})
                self._admit(job)

    def _admit(self, job: Job) -> None:
        try:
            self.engine.admit(job)
        except Exception:
            log.exception("the engine could not take a job")
            job.fail(FAILED, "the local model failed on this request")

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
