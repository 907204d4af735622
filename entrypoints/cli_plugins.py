"""``botgpt plugins``: what each installed plugin registers, so users can check an install."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from botgpt.entrypoints.settings import Settings
from botgpt.plugins.manager import plugin_manager

HOOKS = (
    ("chat provider", "register_chat_models"),
    ("embedder", "register_embedders"),
    ("chunker", "register_chunkers"),
    ("retriever", "register_retrievers"),
    ("reranker", "register_rerankers"),
)


def add_plugin_commands(commands: Any) -> None:
    """Add ``plugins`` to the CLI's subcommands."""
    plugins = commands.add_parser("plugins", help="list installed plugins and what they register")
    plugins.set_defaults(run=_list_plugins, uses_data=False)


def registrations() -> list[tuple[str, str, str]]:
    """(kind, name, plugin) for every factory each installed plugin registers."""
    found: list[tuple[str, str, str]] = []
    for plugin_name, plugin in plugin_manager().list_name_plugin():
        for kind, hook in HOOKS:
            implementation = getattr(plugin, hook, None)
            if implementation is not None:
                implementation(register=_recorder(found, kind, plugin_name))
    return sorted(found)


def _recorder(found: list[tuple[str, str, str]], kind: str, plugin: str) -> Any:
    return lambda name, _factory: found.append((kind, name, plugin))


def _list_plugins(args: argparse.Namespace, settings: Settings) -> int:
    chosen = {
        "chat provider": settings.chat_provider,
        "embedder": settings.embedder,
        "chunker": settings.chunker,
        "retriever": settings.retriever,
        "reranker": settings.reranker,
    }
    for kind, name, plugin in registrations():
        marker = "*" if chosen[kind] == name else " "
        print(f"{marker} {kind:<14} {name:<20} from {plugin}", file=sys.stdout)
    print("* = selected by the current settings", file=sys.stdout)
    return 0
