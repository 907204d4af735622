from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pluggy
import pytest
from dependency_injector import providers

from botgpt.entrypoints.cli_plugins import registrations
from botgpt.entrypoints.container import build_container
from botgpt.entrypoints.core import provided
from botgpt.entrypoints.resources import chat_model
from botgpt.entrypoints.settings import Settings, SettingsError
from botgpt.plugins.hookspecs import PluginContext, PluginUnavailable, RegisterChatModel, hookimpl
from botgpt.plugins.manager import PluginError, chat_model_factories, plugin_manager
from tests.fakes import ScriptedChatModel


class EchoPlugin:
    @hookimpl
    def register_chat_models(self, register: RegisterChatModel) -> None:
        register("scripted", lambda context: ScriptedChatModel(answers=[context.config["system_prompt"]]))


def test_builtin_local_model_is_registered_through_the_entry_point_group() -> None:
    manager = plugin_manager()
    names = {name for name, _ in manager.list_name_plugin()}
    assert "local_chat" in names  # the entry point's name, not the fallback registration
    assert "llama_cpp" in chat_model_factories(manager)


def test_a_plugin_adds_a_provider() -> None:
    manager = plugin_manager(extra=(EchoPlugin(),))
    factories = chat_model_factories(manager)
    model = factories["scripted"](PluginContext({"system_prompt": "configured"}))
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


def test_the_plugin_guide_shows_the_example_package_word_for_word() -> None:
    """plugins/README.md quotes tests/plugin_pkg; each quoted block must equal its file."""
    root = Path(__file__).resolve().parents[2]
    guide = (root / "plugins" / "README.md").read_text(encoding="utf-8")
    quoted = re.findall(r"<!-- file: (\S+) -->\n```\w+\n(.*?)```\n", guide, flags=re.S)
    assert {name for name, _ in quoted} >= {
        "botgpt_example/paragraphs.py",
        "botgpt_example/openai_compatible.py",
        "botgpt_example/__init__.py",
        "pyproject.toml",
        "tests/test_example_plugin.py",
    }
    for name, text in quoted:
        assert text == (root / "tests" / "plugin_pkg" / name).read_text(encoding="utf-8"), name


def test_the_installed_example_plugin_registers_both_of_its_factories() -> None:
    found = registrations()
    assert ("chunker", "paragraphs", "example") in found
    assert ("chat provider", "example_openai", "example") in found
    assert ("chat provider", "llama_cpp", "local_chat") in found
    assert ("reranker", "cross_encoder", "rerankers") in found


def test_the_openai_providers_are_built_in() -> None:
    names = {(kind, name) for kind, name, _ in registrations()}
    assert {("chat provider", "openai"), ("embedder", "openai")} <= names


def test_a_factory_outside_retrieval_cannot_reach_the_stores() -> None:
    context = PluginContext({"chunker": "tokens"})
    with pytest.raises(PluginUnavailable, match="retriever factories"):
        _ = context.store
