"""``botgpt serve`` and ``botgpt engine``: the processes that serve the HTTP API and the model."""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import signal
import socket
import sqlite3
import sys
import threading
from collections.abc import Iterator
from typing import Any

from hypercorn.config import Config, Sockets

from botgpt.adapters.sqlite_db import connect
from botgpt.entrypoints.http.app import BIND_HOST_VARIABLE, BIND_URL_VARIABLE
from botgpt.entrypoints.http_runner import run_server
from botgpt.entrypoints.resources import built
from botgpt.entrypoints.settings import Settings, SettingsError
from botgpt.entrypoints.settings_sources import ENV_PREFIX
from botgpt.entrypoints.telemetry import shared_metrics
from botgpt.plugins.builtin.local_chat import engine_supervisor
from botgpt.plugins.manager import (
    PluginError,
    chat_model_factories,
    chunker_factories,
    embedder_factories,
    pick,
    plugin_manager,
    reranker_factories,
    retriever_factories,
)

log = logging.getLogger("botgpt")


def serve_http(args: argparse.Namespace, settings: Settings) -> int:
    """``botgpt serve``: the store prepared once, the port bound, one shared engine, then
    hypercorn's workers. A store or port that cannot be used is one line and status 1."""
    try:
        prepare_store(settings)
    except (OSError, sqlite3.Error) as error:
        print(f"botgpt: cannot start: the store at {settings.data_dir} is unusable: {error}", file=sys.stderr)
        return 1
    config = PreboundConfig()
    config.bind = [f"{args.host}:{args.port}"]
    config.accesslog = None
    # hypercorn's messages go through botgpt's logging (one format), not a stream of their own.
    config.errorlog = logging.getLogger("hypercorn.error")
    try:
        sockets = config.create_sockets()
    except OSError as error:
        print(f"botgpt: {bind_failure(args.host, args.port, error)}", file=sys.stderr)
        return 1
    os.environ[BIND_HOST_VARIABLE] = args.host  # the app warns about open mode on a public address
    port = sockets.insecure_sockets[0].getsockname()[1]  # --port 0 binds a free one
    url = f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{port}"
    os.environ[BIND_URL_VARIABLE] = url  # each worker says "serving on" once it can answer
    with shared_metrics(args.workers), shared_engine(settings):  # both set the workers' environment first
        log.info("starting on %s (data in %s): loading the models", url, settings.data_dir)
        # One worker runs in this process; more are spawned, each importing the ASGI module.
        status = run_server(config, sockets, args.workers, settings.shutdown_grace_seconds)
    if status:
        print(f"botgpt: the server stopped with status {status}; the log above says why", file=sys.stderr)
    return status


class PreboundConfig(Config):
    """hypercorn's configuration, whose sockets are bound once, before the server starts, so
    that a busy port is found before anything is logged or the engine is loaded."""

    _sockets: Sockets | None = None

    def create_sockets(self) -> Sockets:
        if self._sockets is None:
            self._sockets = super().create_sockets()
            # Listening now, not once the models have loaded: a client that connects early
            # waits in the backlog for its answer instead of being refused.
            for sock in (*self._sockets.insecure_sockets, *self._sockets.secure_sockets):
                sock.listen(self.backlog)
        return self._sockets

    def __getstate__(self) -> dict[str, Any]:
        # Spawned workers receive the sockets separately; a socket is no part of a config.
        return {key: value for key, value in self.__dict__.items() if key != "_sockets"}


def bind_failure(host: str, port: int, error: OSError) -> str:
    """A user's reason why ``host:port`` cannot be listened on."""
    if error.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is in use (another server?); choose another with --port"
    if error.errno == errno.EACCES:
        return f"not allowed to listen on port {port} of {host} (ports below 1024 need privileges)"
    if isinstance(error, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {host}: not an address of this machine ({error.strerror or error})"
    return f"cannot listen on {host}:{port}: {error.strerror or error}"


def check_plugin_choices(settings: Settings) -> None:
    """Raise ``SettingsError`` if a setting names a plugin nothing installed registers.

    Checked before anything starts: found while the resources start together, the same
    mistake surfaces as one error among the tracebacks of every resource it cancels.
    """
    plugins = plugin_manager()
    chats = chat_model_factories(plugins)
    names = [settings.chat_provider, *filter(None, map(str.strip, settings.chat_fallbacks.split(",")))]
    choices: list[tuple[dict[str, Any], str, str]] = [(chats, name, "chat_provider") for name in names]
    if settings.summary_provider.strip():
        choices.append((chats, settings.summary_provider.strip(), "summary_provider"))
    choices += [
        (embedder_factories(plugins), settings.embedder, "embedder"),
        (chunker_factories(plugins), settings.chunker, "chunker"),
        (retriever_factories(plugins), settings.retriever, "retriever"),
    ]
    if settings.reranker.strip():
        choices.append((reranker_factories(plugins), settings.reranker.strip(), "reranker"))
    config = settings.as_dict()
    for factories, name, kind in choices:
        try:
            factory = pick(factories, name, kind)
        except PluginError as error:
            raise SettingsError(str(error)) from error
        if kind in BUILT_TO_CHECK and name not in BUILT_AT_START:
            # Building a provider only reads its settings (clients connect on first use), so a
            # missing key or a malformed value is found here, as one line, not as tracebacks
            # from every worker's start.
            built(factory, config)


# Providers whose settings only their build reads (retrievers and chunkers need the running
# stores to be built). The local engine's build prepares its run directory: it is checked as
# it starts.
BUILT_TO_CHECK = frozenset({"chat_provider", "summary_provider", "embedder", "reranker"})
BUILT_AT_START = frozenset({"llama_cpp"})


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
        supervisor.stop()  # last: the HTTP workers have drained and stopped
        log.info("engine stopped")


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
