"""Building the plugin manager and collecting what plugins register."""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

import pluggy

from botgpt.plugins import hookspecs
from botgpt.plugins.hookspecs import PROJECT, ChatModelFactory

log = logging.getLogger(__name__)

# Registered through the `botgpt` entry-point group like any third-party plugin; listed
# here only as the fallback for environments whose package metadata is stale.
BUILTIN_PLUGINS = ("botgpt.plugins.builtin.local_chat",)


class PluginError(Exception):
    """A plugin is broken or two plugins claim the same name."""


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


def chat_model_factories(manager: pluggy.PluginManager) -> dict[str, ChatModelFactory]:
    """Every registered chat model factory, by provider name."""
    factories: dict[str, ChatModelFactory] = {}

    def register(name: str, factory: ChatModelFactory) -> None:
        if name in factories:
            raise PluginError(f"two plugins register a chat model named {name!r}")
        factories[name] = factory

    manager.hook.register_chat_models(register=register)
    return factories
