"""hypercorn's workers, with a graceful shutdown that hypercorn alone does not give.

hypercorn stops on SIGTERM by closing its sockets and cancelling whatever still runs after
``graceful_timeout``: a streamed answer just stops, with no word to its client. Here each
worker hears the signal itself, refuses new work (503 ``shutting_down``), lets running
requests finish for ``grace`` seconds, ends the streams still running with an error event
(nothing half-written is stored), and only then lets hypercorn close. A second signal ends
the streams at once.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import Any

from hypercorn.config import Config, Sockets

from botgpt.entrypoints.telemetry import forget_worker

log = logging.getLogger("botgpt")
# What hypercorn still waits for once the drain is over: requests that ignored the deadline.
AFTER_DRAIN_SECONDS = 3.0
# Then stores and models close (ingestion gets 5 s to finish its step): a worker that has not
# exited by then is stuck, and is killed.
STOP_MARGIN_SECONDS = 60.0


def run_server(config: Config, sockets: Sockets, workers: int, grace: float) -> int:
    """Serve on ``sockets`` until SIGTERM or SIGINT: in this process, or in ``workers``
    spawned processes. Returns the exit status (a worker's non-zero status, if one failed)."""
    if workers <= 1:
        return asyncio.run(serve_worker(config, sockets, grace, signals=(signal.SIGTERM, signal.SIGINT)))
    return _supervise(config, sockets, workers, grace)


async def serve_worker(config: Config, sockets: Sockets, grace: float, signals: tuple[int, ...]) -> int:
    """One worker: the botgpt app under hypercorn, drained on the first of ``signals``."""
    from hypercorn.asyncio import serve

    from botgpt.entrypoints.http.asgi import app
    from botgpt.entrypoints.http.draining import DRAIN_KEY

    drain = app.extensions[DRAIN_KEY]
    loop, stopping = asyncio.get_running_loop(), asyncio.Event()

    def on_signal() -> None:
        if stopping.is_set():
            drain.cut_now()
        stopping.set()

    for number in signals:
        loop.add_signal_handler(number, on_signal)

    async def drained() -> None:
        await stopping.wait()
        await drain.drain(grace)

    config._sockets = sockets  # type: ignore[attr-defined]  # PreboundConfig: serve on these
    config.graceful_timeout = AFTER_DRAIN_SECONDS
    await serve(app, config, shutdown_trigger=drained)  # type: ignore[arg-type]
    return 0


def _worker_process(config: Config, sockets: Sockets, grace: float) -> None:
    # The supervisor forwards SIGTERM; a terminal's Ctrl+C reaches the supervisor, which
    # forwards it once, so a worker must not take the same keypress as a second signal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise SystemExit(asyncio.run(serve_worker(config, sockets, grace, signals=(signal.SIGTERM,))))


def _supervise(config: Config, sockets: Sockets, workers: int, grace: float) -> int:
    context = multiprocessing.get_context("spawn")
    processes: list[BaseProcess] = []
    stopping = False

    def on_signal(*_: Any) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            for process in processes:
                process.terminate()  # SIGTERM: each worker drains

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, on_signal)
    status = 0
    while not stopping and status == 0:
        while len(processes) < workers:
            spawned: BaseProcess = context.Process(target=_worker_process, args=(config, sockets, grace))
            spawned.start()
            processes.append(spawned)
        wait([process.sentinel for process in processes], timeout=1.0)
        status = _reap(processes)
    on_signal()
    for process in processes:
        process.join(grace + AFTER_DRAIN_SECONDS + STOP_MARGIN_SECONDS)
        if process.is_alive():
            log.error("HTTP worker %s did not stop in time; killing it", process.pid)
            process.kill()
            process.join()
    return status or _reap(processes)


def _reap(processes: list[BaseProcess]) -> int:
    """Forget the workers that exited; the first non-zero exit status among them, else 0.
    As with hypercorn, a worker that fails stops the server (its process manager restarts it)."""
    status = 0
    for process in [p for p in processes if p.exitcode is not None]:
        processes.remove(process)
        forget_worker(process.pid or 0)  # its live metrics leave the scrape
        if process.exitcode and not status:
            log.error("HTTP worker %s exited with status %s", process.pid, process.exitcode)
            status = process.exitcode
    return status
