"""The engine process: one model, several slots, a fair queue, served on a Unix socket.

Started by ``EngineSupervisor`` as ``python -m botgpt.adapters.engine_server``. It enables
``faulthandler`` first, so that a native crash leaves a Python trace on stderr (which the
supervisor copies into the server log). It binds its socket only after the model has
loaded and generated one warm-up token: a socket that accepts means an engine that works.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import importlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botgpt.adapters.engine_protocol import (
    BAD_REQUEST,
    BUSY,
    QUEUED,
    Engine,
    EngineFactory,
    Job,
    decode,
    encode,
)
from botgpt.adapters.engine_scheduler import Scheduler

log = logging.getLogger("botgpt.engine")
DEFAULT_FACTORY = "botgpt.adapters.llamacpp_engine:build"


class EngineServer:
    """Answers connections: ``generate`` requests stream events, ``status`` reports health."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = decode(await reader.readline())
            if request.get("op") == "status":
                writer.write(encode(self.status()))
            else:
                await self._generate(request, reader, writer)
            await writer.drain()
        except (ValueError, KeyError, TypeError):
            writer.write(encode({"event": "error", "code": BAD_REQUEST, "message": "malformed request"}))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def status(self) -> dict[str, Any]:
        return {
            "event": "status",
            "pid": os.getpid(),
            "active": self.scheduler.engine.active,
            "slots": self.scheduler.engine.active + self.scheduler.engine.free_slots,
            "waiting": self.scheduler.waiting,
            "refused": self.scheduler.refused,
            "stalled_for": round(self.scheduler.stalled_for(), 3),
        }

    async def _generate(
        self, request: dict[str, Any], reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        def emit(event: dict[str, Any]) -> None:  # called from the engine thread
            loop.call_soon_threadsafe(events.put_nowait, event)

        job = job_of(request, emit)
        place = self.scheduler.submit(job)
        if place is None:
            writer.write(encode({"event": "error", "code": BUSY, "message": "the local model's queue is full"}))
            return
        writer.write(encode({"event": QUEUED, "position": place}))
        hung_up = asyncio.ensure_future(reader.read())  # EOF: the client is gone
        try:
            while True:
                event = await _next_event(events, hung_up)
                if event is None:
                    return
                writer.write(encode(event))
                await writer.drain()
                if event["event"] in ("done", "error"):
                    return
        finally:
            self.scheduler.cancel(job)
            hung_up.cancel()


def job_of(request: dict[str, Any], emit: Callable[[dict[str, Any]], None]) -> Job:
    """The job a ``generate`` request asks for; raises ``ValueError``, ``KeyError`` or
    ``TypeError`` when it is malformed."""
    top_p, seed, stop = request.get("top_p"), request.get("seed"), request.get("stop") or []
    if not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop):
        raise ValueError("stop must be a list of non-empty strings")
    return Job(
        messages=[{"role": str(m["role"]), "content": str(m["content"])} for m in request["messages"]],
        max_tokens=int(request["max_tokens"]),
        temperature=float(request["temperature"]),
        emit=emit,
        top_p=None if top_p is None else float(top_p),
        seed=None if seed is None else int(seed),
        stop=tuple(stop),
    )


async def _next_event(events: asyncio.Queue[dict[str, Any]], hung_up: asyncio.Future[bytes]) -> dict[str, Any] | None:
    """The job's next event, or ``None`` once the client has hung up."""
    getting = asyncio.ensure_future(events.get())
    waiting: set[asyncio.Future[Any]] = {getting, hung_up}
    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    if getting.done():
        return getting.result()
    getting.cancel()
    return None


def build_engine(config: dict[str, Any]) -> Engine:
    """The engine named by ``engine_factory`` (``module:callable``), llama.cpp by default."""
    module_name, _, attribute = (config.get("engine_factory") or DEFAULT_FACTORY).partition(":")
    factory: EngineFactory = getattr(importlib.import_module(module_name), attribute)
    return factory(config)


def warm_up(engine: Engine) -> None:
    """Generate one token, so that readiness means a working engine, not just loaded weights."""
    outcome: list[dict[str, Any]] = []
    job = Job([{"role": "user", "content": "Hi"}], max_tokens=1, temperature=0.0, emit=outcome.append)
    engine.admit(job)
    while engine.active:
        engine.step()
    if not outcome or outcome[-1]["event"] != "done":
        raise RuntimeError(f"the warm-up generation failed: {outcome[-1] if outcome else 'no output'}")


def watch_parent(parent: int) -> None:
    """Exit when the supervising process is gone, so no engine outlives its server."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(3)

    threading.Thread(target=watch, name="botgpt-engine-parent", daemon=True).start()


async def serve(scheduler: Scheduler, socket_path: Path) -> None:
    """Serve on ``socket_path`` until cancelled. Binds beside it and renames, so a client
    never connects to a half-made socket."""
    server = EngineServer(scheduler)
    staging = socket_path.with_name(socket_path.name + ".new")
    staging.unlink(missing_ok=True)
    unix_server = await asyncio.start_unix_server(server.handle, path=str(staging))
    os.chmod(staging, 0o600)
    os.replace(staging, socket_path)
    log.info("engine ready on %s (pid %d)", socket_path, os.getpid())
    async with unix_server:
        await unix_server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    """The engine process's entry point."""
    faulthandler.enable()
    parser = argparse.ArgumentParser(prog="botgpt-engine")
    parser.add_argument("--socket", type=Path, required=True)
    parser.add_argument("--parent", type=int, default=os.getppid())
    args = parser.parse_args(argv)
    config = json.loads(sys.stdin.read() or "{}")  # settings arrive on stdin, never in argv
    logging.basicConfig(level=config.get("log_level", "INFO"), format="%(levelname)s %(name)s: %(message)s")
    watch_parent(args.parent)
    engine = build_engine(config)
    engine.load()
    warm_up(engine)
    scheduler = Scheduler(engine, queue_depth=int(config.get("engine_queue_depth", 16)))
    threading.Thread(target=scheduler.run, name="botgpt-engine", daemon=True).start()
    try:
        asyncio.run(serve(scheduler, args.socket))
    finally:
        scheduler.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
