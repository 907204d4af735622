from __future__ import annotations

from pathlib import Path
from typing import Any

import pluggy
import pytest
from dependency_injector import providers

from botgpt.entrypoints.container import build_container
from botgpt.entrypoints.core import provided
from botgpt.entrypoints.resources import chat_model
from botgpt.entrypoints.settings import Settings, SettingsError
from botgpt.plugins.hookspecs import RegisterChatModel, hookimpl
from botgpt.plugins.manager import PluginError, chat_model_factories, plugin_manager
from tests.fakes import ScriptedChatModel


class EchoPlugin:
    @hookimpl
    def register_chat_models(self, register: RegisterChatModel) -> None:
        register("scripted", lambda config: ScriptedChatModel(answers=[config["system_prompt"]]))


def test_builtin_local_model_is_registered_through_the_entry_point_group() -> None:
    manager = plugin_manager()
    names = {name for name, _ in manager.list_name_plugin()}
    assert "local_chat" in names  # the entry point's name, not the fallback registration
    assert "llama_cpp" in chat_model_factories(manager)


def test_a_plugin_adds_a_provider() -> None:
    manager = plugin_manager(extra=(EchoPlugin(),))
    factories = chat_model_factories(manager)
    model = factories["scripted"]({"system_prompt": "configured"})
    assert model.name == "scripted"


def test_two_plugins_claiming_one_name_fail_loudly() -> None:
    class Clash:
        @hookimpl
        def register_chat_models(self, register: RegisterChatModel) -> None:
            register("llama_cpp", lambda config: ScriptedChatModel())

    with pytest.raises(PluginError, match="llama_cpp"):
        chat_model_factories(plugin_manager(extra=(Clash(),)))


def test_a_misspelt_hook_fails_at_start_up() -> None:
    class Typo:
        @hookimpl
        def register_chat_model(self, register: Any) -> None:
            pass

    with pytest.raises(pluggy.PluginValidationError):
        plugin_manager(extra=(Typo(),))


async def test_the_container_builds_the_configured_provider(tmp_path: Path) -> None:
    settings = Settings.load(
        environ={},
        data_dir=tmp_path,
        chat_provider="scripted",
        store="memory",
        system_prompt="from config",
    )
    container = build_container(settings)
    container.plugins.override(providers.Singleton(plugin_manager, extra=(EchoPlugin(),)))
    await container.init_resources()
    try:
        service = await provided(container.conversations)
        turn = await service.start("alice", "hello")
    finally:
        await container.shutdown_resources()
    assert turn.assistant_message.content == "from config"


async def test_unknown_provider_is_a_clear_error() -> None:
    resource = chat_model(plugin_manager(), {"chat_provider": "nope", "chat_fallbacks": ""})
    with pytest.raises(SettingsError, match="nope"):
        await anext(resource)
