"""``botgpt serve`` and ``botgpt engine``: the processes that serve the HTTP API and the model."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Iterator

from botgpt.adapters.sqlite_db import connect
from botgpt.entrypoints.http.app import BIND_HOST_VARIABLE
from botgpt.entrypoints.settings import Settings
from botgpt.entrypoints.settings_sources import ENV_PREFIX
from botgpt.plugins.builtin.local_chat import engine_supervisor

log = logging.getLogger("botgpt")


def serve_http(args: argparse.Namespace, settings: Settings) -> int:
    """``botgpt serve``: the store prepared once, one shared engine, then hypercorn's workers."""
    from hypercorn.config import Config
    from hypercorn.run import run

    try:
        prepare_store(settings)
    except (OSError, sqlite3.Error) as error:
        print(f"botgpt: cannot start: the store at {settings.data_dir} is unusable: {error}", file=sys.stderr)
        return 1
    config = Config()
    config.bind = [f"{args.host}:{args.port}"]
    # One worker runs in this process; more are spawned, each importing the ASGI module.
    config.workers = 0 if args.workers == 1 else args.workers
    config.application_path = "botgpt.entrypoints.http.asgi:app"
    config.accesslog = None
    os.environ[BIND_HOST_VARIABLE] = args.host  # the app warns about open mode on a public address
    with shared_engine(settings):
        log.info("serving on http://%s:%d (data in %s)", args.host, args.port, settings.data_dir)
        status = int(run(config) or 0)
    if status:
        print(f"botgpt: the server stopped with status {status}; the log above says why", file=sys.stderr)
    return status


def prepare_store(settings: Settings) -> None:
    """Create or upgrade the SQLite schema once, before any worker opens the file."""
    if settings.store == "sqlite":
        connect(settings.sqlite_path).close()


def uses_local_engine(settings: Settings) -> bool:
    """Whether the configured chat chain includes the local model."""
    names = [settings.chat_provider, *map(str.strip, settings.chat_fallbacks.split(","))]
    return "llama_cpp" in names and not settings.engine_attach


@contextlib.contextmanager
def shared_engine(settings: Settings) -> Iterator[None]:
    """One supervised engine for every HTTP worker: they attach to it through the environment."""
    if not uses_local_engine(settings):
        yield
        return
    supervisor = engine_supervisor(settings.as_dict())
    # Before the supervisor's thread starts: changing the environment while another thread
    # spawns a process can hand the child a torn environment (execve fails with EFAULT).
    os.environ[f"{ENV_PREFIX}ENGINE_DIR"] = str(supervisor.run_dir)
    os.environ[f"{ENV_PREFIX}ENGINE_ATTACH"] = "1"
    supervisor.start()
    try:
        yield
    finally:
        supervisor.stop()


def run_engine(args: argparse.Namespace, settings: Settings) -> int:
    """``botgpt engine``: a supervised engine alone, for servers that attach to it."""
    supervisor = engine_supervisor({**settings.as_dict(), "engine_dir": str(args.dir)})
    stop = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop.set())
    supervisor.start()
    log.info(
        "engine supervised in %s; attach servers with BOTGPT_ENGINE_ATTACH=1 BOTGPT_ENGINE_DIR=%s", args.dir, args.dir
    )
    stop.wait()
    supervisor.stop()
    return 0
