"""The ``botgpt`` command: ``serve`` the HTTP API, ``chat`` in the terminal, manage keys,
export and import conversations."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import attrs

from botgpt.domain.errors import BotgptError
from botgpt.domain.keys import KeyService
from botgpt.entrypoints.cli_backup import add_backup_commands
from botgpt.entrypoints.cli_chat import add_chat_command
from botgpt.entrypoints.cli_plugins import add_plugin_commands
from botgpt.entrypoints.cli_reindex import add_reindex_command
from botgpt.entrypoints.cli_transfer import add_transfer_commands
from botgpt.entrypoints.container import build_container
from botgpt.entrypoints.core import provided, stop_resources
from botgpt.entrypoints.logs import configure_logging
from botgpt.entrypoints.serving import check_plugin_choices, run_engine, serve_http
from botgpt.entrypoints.settings import Settings, SettingsError, setting_fields
from botgpt.entrypoints.telemetry import metrics_endpoint

log = logging.getLogger("botgpt")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status. What a user can fix (a setting, the data
    directory) is one line on stderr and a non-zero status, never a traceback."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings.load(config_file=args.config)
        if args.uses_data:
            ensure_data_dir(settings.data_dir)
        if args.uses_models:
            check_plugin_choices(settings)
    except (SettingsError, DataDirError) as error:
        print(f"botgpt: {error}", file=sys.stderr)
        return 2
    configure_logging(settings, server=args.server)
    try:
        return int(args.run(args, settings))
    except SettingsError as error:  # a value only a plugin checks, found when it is built
        print(f"botgpt: {error}", file=sys.stderr)
        return 2


def tcp_port(text: str) -> int:
    """A port number for argparse, which turns the ValueError into a one-line usage error."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a TCP port (0 to 65535)")
    return port


class DataDirError(Exception):
    """The data directory cannot be created, read or written."""


def ensure_data_dir(path: Path) -> None:
    """Create the data directory if need be, and check that botgpt can write there."""
    if path.exists() and not path.is_dir():
        raise DataDirError(f"the data directory {path} is a file, not a directory (set BOTGPT_DATA_DIR)")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise DataDirError(f"the data directory {path} is unusable: {reason} (set BOTGPT_DATA_DIR)") from error


class _Parser(argparse.ArgumentParser):
    """Every command's help shows each option's default; subcommands inherit this class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    def _get_help_string(self, action: argparse.Action) -> str | None:
        # Options whose help names its default in words ("default: unlimited") keep it.
        text = action.help or ""
        quiet = action.default is None or action.default is False or action.default == argparse.SUPPRESS
        if "default" in text or action.required or quiet:
            return text
        return super()._get_help_string(action)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="botgpt", description="Self-hosted conversational AI backend.")
    parser.add_argument("--config", type=Path, default=None, help="TOML settings file (default: $BOTGPT_CONFIG)")
    parser.set_defaults(uses_data=True, uses_models=False, server=False)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    serve.add_argument("--port", type=tcp_port, default=8000, help="TCP port to listen on (0: any free port)")
    serve.add_argument("--workers", type=int, default=1, help="HTTP worker processes (they share one model engine)")
    serve.set_defaults(run=serve_http, uses_models=True, server=True)

    engine = commands.add_parser("engine", help="run the local model engine alone, for servers started elsewhere")
    engine.add_argument("--dir", type=Path, required=True, help="directory for the engine's socket and state")
    engine.set_defaults(run=run_engine, uses_data=False, server=True)

    add_chat_command(commands)

    worker = commands.add_parser("worker", help="run ingestion workers without the HTTP API")
    worker.add_argument("--workers", type=int, default=1, help="concurrent workers in this process")
    worker.add_argument("--metrics-port", type=int, default=None, help="serve /metrics on this port (default: none)")
    worker.add_argument("--metrics-host", default="127.0.0.1", help="address the metrics port listens on")
    worker.set_defaults(run=_worker, uses_models=True, server=True)

    _add_key_commands(commands)
    add_transfer_commands(commands)
    add_plugin_commands(commands)
    add_reindex_command(commands)
    add_backup_commands(commands)

    settings = commands.add_parser("settings", help="print every setting and its current value")
    settings.add_argument("--markdown", action="store_true", help="print the README's configuration table")
    settings.set_defaults(run=_print_settings, uses_data=False)
    return parser


def _add_key_commands(commands: Any) -> None:
    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(required=True, metavar="ACTION")
    create = keys.add_parser("create", help="create a key and print it (once)")
    create.add_argument("--user", required=True, help="the user the key acts for")
    create.add_argument("--rpm", type=int, default=None, help="requests per minute (default: unlimited)")
    create.add_argument("--tpd", type=int, default=None, help="tokens per day (default: unlimited)")
    create.set_defaults(run=_keys(_create_key))
    listing = keys.add_parser("list", help="list keys (never their secrets)")
    listing.set_defaults(run=_keys(_list_keys))
    revoke = keys.add_parser("revoke", help="revoke a key by id or prefix")
    revoke.add_argument("key", help="key id or prefix")
    revoke.set_defaults(run=_keys(_revoke_key))


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    # The core's own workers are the ingestion loop: run them and wait for a signal.
    settings = attrs.evolve(settings, ingest_workers=max(1, args.workers))
    return asyncio.run(_run_workers(settings, args.metrics_host, args.metrics_port))


async def _run_workers(settings: Settings, metrics_host: str = "127.0.0.1", metrics_port: int | None = None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    container = build_container(settings)
    try:
        await provided(container.workers)  # stores and the embedder only: ingestion needs no chat model
        log.info("ingestion worker running (%d); Ctrl+C stops it", settings.ingest_workers)
        with metrics_endpoint(container.metrics(), metrics_host, metrics_port):
            await stop.wait()
    finally:
        await stop_resources(container)
    return 0


KeyAction = Callable[[KeyService, argparse.Namespace, TextIO], Awaitable[int]]


def _keys(action: KeyAction) -> Callable[[argparse.Namespace, Settings], int]:
    """Run a key action against the configured store, without loading any model."""

    def run(args: argparse.Namespace, settings: Settings) -> int:
        async def go() -> int:
            container = build_container(settings)
            try:
                keys = await provided(container.keys)
                return await action(keys, args, sys.stdout)
            except BotgptError as error:
                print(f"botgpt: {error}", file=sys.stderr)
                return 1
            finally:
                await stop_resources(container)

        return asyncio.run(go())

    return run


async def _create_key(keys: KeyService, args: argparse.Namespace, out: TextIO) -> int:
    created = await keys.create(args.user, args.rpm, args.tpd)
    print(created.secret, file=out)
    print(f"key {created.key.id} for user {created.key.user_id}; store it now, it is not shown again", file=sys.stderr)
    return 0


async def _list_keys(keys: KeyService, args: argparse.Namespace, out: TextIO) -> int:
    print("id\tprefix\tuser\tcreated\trevoked\trpm\ttpd", file=out)
    for key in await keys.list_keys():
        revoked = key.revoked_at.isoformat() if key.revoked_at else "-"
        limits = f"{key.requests_per_minute or '-'}\t{key.tokens_per_day or '-'}"
        print(f"{key.id}\t{key.prefix}\t{key.user_id}\t{key.created_at.isoformat()}\t{revoked}\t{limits}", file=out)
    return 0


async def _revoke_key(keys: KeyService, args: argparse.Namespace, out: TextIO) -> int:
    key = await keys.revoke(args.key)
    print(f"revoked {key.id} ({key.user_id})", file=out)
    return 0


def _print_settings(args: argparse.Namespace, settings: Settings) -> int:
    if args.markdown:
        print(settings_table())
        return 0
    for field in setting_fields():
        print(f"BOTGPT_{field.name.upper()}={shown_value(field.name, getattr(settings, field.name))}")
    return 0


SECRET_SUFFIXES = ("_api_key", "_secret", "_token", "_password")


def shown_value(name: str, value: Any) -> str:
    """A setting as ``botgpt settings`` prints it: secrets masked (the output lands in
    terminals, tickets and CI logs), and a password inside a connection string too."""
    text = str(value)
    if name.endswith(SECRET_SUFFIXES) and text:
        return f"{text[:4]}…(set, {len(text)} characters)" if len(text) > 12 else "…(set)"
    return re.sub(r"(://[^:/@]+:)[^@/]+@", r"\1***@", text)


def settings_table() -> str:
    """The configuration table of the README: variable, TOML key, default, meaning."""
    rows = ["| environment | TOML key | default | meaning |", "|---|---|---|---|"]
    rows.append("| `BOTGPT_CONFIG` | – | (none) | TOML file to read settings from. |")
    for field in setting_fields():
        default = f"`{field.default}`" if str(field.default) else "(empty)"
        choices = field.metadata.get("choices")
        meaning = field.metadata["help"] + (f" One of: {', '.join(f'`{c}`' for c in choices)}." if choices else "")
        rows.append(f"| `BOTGPT_{field.name.upper()}` | `{field.name}` | {default} | {meaning} |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
