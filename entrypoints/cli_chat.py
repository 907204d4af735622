"""``botgpt chat``: a conversation in the terminal, without HTTP, with a few slash commands."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, TextIO

from botgpt.domain.errors import BotgptError
from botgpt.entrypoints.container import build_container
from botgpt.entrypoints.core import Core, open_core, provided, stop_resources
from botgpt.entrypoints.logs import quiet_logging
from botgpt.entrypoints.settings import Settings

COMMANDS = {
    "/help": "show these commands",
    "/new": "start a new conversation",
    "/docs": "list your documents and their ingestion status",
    "/exit": "leave (also /quit, or Ctrl+D)",
}
DOCS_SHOWN = 50


def add_chat_command(commands: Any) -> None:
    """Add ``chat`` to the CLI's subcommands."""
    chat = commands.add_parser("chat", help="chat in the terminal, without HTTP")
    chat.add_argument("--user", default=None, help="whose conversations to use (default: BOTGPT_DEFAULT_USER)")
    chat.add_argument("--conversation", default=None, help="continue this conversation id (default: a new one)")
    chat.set_defaults(run=_chat, uses_models=True)


def _chat(args: argparse.Namespace, settings: Settings) -> int:
    user = args.user or settings.default_user
    log_file = quiet_logging(settings)
    try:
        return asyncio.run(chat(settings, user, args.conversation, sys.stdin, sys.stdout, sys.stderr, log_file))
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130


async def chat(
    settings: Settings, user: str, conversation_id: str | None, stdin: TextIO, stdout: TextIO, stderr: TextIO,
    log_file: str = "",
) -> int:  # fmt: skip
    """Check the conversation to continue, load the models, then chat until /exit or end of input."""
    if conversation_id is not None and (problem := await _missing_conversation(settings, user, conversation_id)):
        print(f"botgpt: {problem}", file=stderr)
        return 1
    print("loading the model…", file=stderr, flush=True)
    async with open_core(settings) as core:
        logs = f" (logs: {log_file})" if log_file else ""
        print(f"botgpt chat as {user}: type a message; /help lists the commands{logs}.", file=stdout)
        session = ChatSession(core, user, conversation_id, stdout)
        while (line := _prompt(stdin, stdout)) is not None and await session.handle(line):
            pass
        if line is None:  # end of input: end the prompt's line
            stdout.write("\n")
    return 0


async def _missing_conversation(settings: Settings, user: str, conversation_id: str) -> str | None:
    """Why ``conversation_id`` cannot be continued, found from the store alone (no model loads)."""
    container = build_container(settings)
    try:
        await (await provided(container.history)).get(user, conversation_id)
    except BotgptError as error:
        return f"{error} ({conversation_id!r} for user {user!r})"
    finally:
        await stop_resources(container)
    return None


def _prompt(stdin: TextIO, stdout: TextIO) -> str | None:
    stdout.write("you> ")
    stdout.flush()
    line = stdin.readline()
    return line.rstrip("\n") if line else None


class ChatSession:
    """One terminal chat: its current conversation, and what each typed line does."""

    def __init__(self, core: Core, user: str, conversation_id: str | None, out: TextIO) -> None:
        self.core, self.user, self.conversation_id, self.out = core, user, conversation_id, out

    async def handle(self, line: str) -> bool:
        """Act on one line; False once the user leaves."""
        text = line.strip()
        if not text:
            return True
        if not text.startswith("/"):
            await self.say(line)
            return True
        command = text.split()[0].lower()
        if command in ("/exit", "/quit"):
            return False
        if command == "/help":
            self._help()
        elif command == "/new":
            self.conversation_id = None
            print("(a new conversation starts with your next message)", file=self.out)
        elif command == "/docs":
            await self._documents()
        else:
            # Never sent to the model: a mistyped command is not a question.
            print(f"unknown command {command}; /help lists the commands", file=self.out)
        return True

    def _help(self) -> None:
        for command, meaning in COMMANDS.items():
            print(f"  {command:<7} {meaning}", file=self.out)
        print("  anything else is sent to the model", file=self.out)

    async def _documents(self) -> None:
        page = await self.core.documents.list_documents(self.user, limit=DOCS_SHOWN)
        if not page.items:
            print("no documents yet: upload some through the HTTP API or the web page", file=self.out)
            return
        for document in page.items:
            progress = f" ({document.chunks_embedded}/{document.chunks_total} chunks)" if document.chunks_total else ""
            error = f": {document.error}" if document.error else ""
            print(f"  {document.id}  {document.status.value:<10} {document.filename}{progress}{error}", file=self.out)
        if page.total > len(page.items):
            print(f"  … and {page.total - len(page.items)} more", file=self.out)

    async def say(self, text: str) -> None:
        """One turn, its answer printed token by token as the model generates it."""
        service = self.core.conversations
        try:
            if self.conversation_id is None:
                prepared = await service.prepare_start(self.user, text)
            else:
                prepared = await service.prepare_post(self.user, self.conversation_id, text)
            self.out.write("bot> ")
            async for item in service.stream_turn(prepared):
                if isinstance(item, str):
                    self.out.write(item)
                    self.out.flush()
                else:
                    self.conversation_id = item.conversation.id
            self.out.write("\n")
        except BotgptError as error:
            print(f"\n[{error.code}] {error}", file=self.out)
