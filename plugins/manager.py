"""Building the plugin manager and collecting what plugins register."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

import pluggy

from botgpt.plugins import hookspecs
from botgpt.plugins.hookspecs import (
    PROJECT,
    ChatModelFactory,
    ChunkerFactory,
    EmbedderFactory,
    RerankerFactory,
    RetrieverFactory,
)
from botgpt.ports.ai import TextExtractor

log = logging.getLogger(__name__)
F = TypeVar("F")

# Registered through the `botgpt` entry-point group like any third-party plugin; listed
# here only as the fallback for environments whose package metadata is stale.
BUILTIN_PLUGINS = (
    "botgpt.plugins.builtin.local_chat",
    "botgpt.plugins.builtin.local_embedder",
    "botgpt.plugins.builtin.chunkers",
    "botgpt.plugins.builtin.retrievers",
    "botgpt.plugins.builtin.extractors",
    "botgpt.plugins.builtin.remote_providers",
    "botgpt.plugins.builtin.openai_providers",
    "botgpt.plugins.builtin.rerankers",
)


class PluginError(Exception):
    """A plugin is broken, two plugins claim the same name, or a name is not registered."""


def plugin_manager(extra: tuple[object, ...] = ()) -> pluggy.PluginManager:
    """A manager with every installed ``botgpt`` plugin, the built-ins included."""
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.load_setuptools_entrypoints(PROJECT)
    for name in BUILTIN_PLUGINS:
        _ensure_registered(manager, importlib.import_module(name))
    for plugin in extra:
        manager.register(plugin)
    manager.check_pending()
    return manager


def _ensure_registered(manager: pluggy.PluginManager, module: ModuleType) -> None:
    if not manager.is_registered(module):
        log.debug("built-in plugin %s was not found through entry points", module.__name__)
        manager.register(module)


def _collect(hook: Callable[..., Any], kind: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def register(name: str, factory: Any) -> None:
        if name in found:
            raise PluginError(f"two plugins register a {kind} named {name!r}")
        found[name] = factory

    hook(register=register)
    return found


def chat_model_factories(manager: pluggy.PluginManager) -> dict[str, ChatModelFactory]:
    """Every registered chat model factory, by provider name."""
    return _collect(manager.hook.register_chat_models, "chat model")


def embedder_factories(manager: pluggy.PluginManager) -> dict[str, EmbedderFactory]:
    """Every registered embedder factory, by name."""
    return _collect(manager.hook.register_embedders, "embedder")


def chunker_factories(manager: pluggy.PluginManager) -> dict[str, ChunkerFactory]:
    """Every registered chunker factory, by name."""
    return _collect(manager.hook.register_chunkers, "chunker")


def retriever_factories(manager: pluggy.PluginManager) -> dict[str, RetrieverFactory]:
    """Every registered retriever factory, by name."""
    return _collect(manager.hook.register_retrievers, "retriever")


def reranker_factories(manager: pluggy.PluginManager) -> dict[str, RerankerFactory]:
    """Every registered reranker factory, by name."""
    return _collect(manager.hook.register_rerankers, "reranker")


def extractors_by_extension(manager: pluggy.PluginManager) -> dict[str, TextExtractor]:
    """Every registered extractor, by the file extensions it claims."""
    found: dict[str, TextExtractor] = {}

    def register(extractor: TextExtractor) -> None:
        for extension in extractor.extensions:
            if extension in found:
                raise PluginError(f"two plugins register an extractor for {extension}")
            found[extension] = extractor

    manager.hook.register_extractors(register=register)
    return found


def pick(factories: dict[str, F], name: str, kind: str) -> F:
    """The factory registered as ``name``; a clear error listing the installed ones if none."""
    if name not in factories:
        raise PluginError(f"no {kind} named {name!r} is installed; installed: {', '.join(sorted(factories))}")
    return factories[name]
