"""``botgpt export`` and ``botgpt import``: conversations to and from files, without HTTP or models."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

import msgspec

from botgpt.domain.errors import BotgptError
from botgpt.domain.transfer import ConversationTransfer
from botgpt.entrypoints.container import build_container
from botgpt.entrypoints.core import provided, stop_resources
from botgpt.entrypoints.settings import Settings
from botgpt.entrypoints.transfer_format import export_document, markdown, parse_export, tree_from


def add_transfer_commands(commands: Any) -> None:
    """Add ``export`` and ``import`` to the CLI's subcommands."""
    export = commands.add_parser("export", help="print a conversation as JSON (its whole tree) or Markdown")
    export.add_argument("conversation", help="conversation id")
    export.add_argument("--format", choices=("json", "markdown"), default="json", help="what to write")
    export.add_argument("--user", default=None, help="only if this user owns it (default: any user)")
    export.add_argument("--output", type=Path, default=None, help="write to this file (default: stdout)")
    export.set_defaults(run=_export)

    importing = commands.add_parser("import", help="store an exported JSON file as a new conversation")
    importing.add_argument("file", type=Path, help="a file written by `botgpt export` or GET …/export")
    importing.add_argument("--user", default=None, help="the user who will own it (default: BOTGPT_DEFAULT_USER)")
    importing.set_defaults(run=_import)


def _export(args: argparse.Namespace, settings: Settings) -> int:
    async def go(transfer: ConversationTransfer) -> int:
        tree = await transfer.export(args.user, args.conversation)
        if args.format == "markdown":
            text = markdown(tree)
        else:
            text = msgspec.json.format(msgspec.json.encode(export_document(tree)).decode(), indent=2) + "\n"
        if args.output:
            args.output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0

    return _with_transfer(settings, go)


def _import(args: argparse.Namespace, settings: Settings) -> int:
    async def go(transfer: ConversationTransfer) -> int:
        size_limit = settings.max_import_mb << 20
        if args.file.stat().st_size > size_limit:
            print(f"botgpt: the file is over the import limit of {settings.max_import_mb} MiB", file=sys.stderr)
            return 1
        conversation = await transfer.import_tree(
            args.user or settings.default_user, tree_from(parse_export(args.file.read_bytes()))
        )
        print(conversation.id)
        print(f"imported {conversation.message_count} messages for {conversation.user_id}", file=sys.stderr)
        return 0

    return _with_transfer(settings, go)


def _with_transfer(settings: Settings, action: Any) -> int:
    async def go() -> int:
        container = build_container(settings)
        try:
            return int(await action(await provided(container.transfer)))
        except (BotgptError, OSError) as error:
            print(f"botgpt: {error}", file=sys.stderr)
            return 1
        finally:
            await stop_resources(container)

    return asyncio.run(go())
