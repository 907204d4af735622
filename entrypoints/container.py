"""The dependency-injector container: adapters chosen by configuration."""

from __future__ import annotations

from dependency_injector import containers, providers

from botgpt.adapters.memory_store import MemoryConversationStore
from botgpt.adapters.tiktoken_tokens import TiktokenCounter
from botgpt.domain.conversations import ConversationService
from botgpt.entrypoints import resources
from botgpt.entrypoints.http.identity import SeedIdentity
from botgpt.entrypoints.settings import Settings
from botgpt.plugins.manager import plugin_manager


class Container(containers.DeclarativeContainer):
    """Wires botgpt. Nothing connects or loads at import or construction time: stores and
    models are async resources, started by ``init_resources()`` (the server does this in
    ``before_serving``) and stopped by ``shutdown_resources()``."""

    settings = providers.Dependency(instance_of=Settings)
    config = providers.Callable(lambda settings: settings.as_dict(), settings)

    plugins = providers.Singleton(plugin_manager)
    token_counter = providers.Singleton(TiktokenCounter, encoding=settings.provided.token_encoding)
    store = providers.Selector(
        settings.provided.store,
        sqlite=providers.Resource(resources.sqlite_store, path=settings.provided.sqlite_path),
        memory=providers.Singleton(MemoryConversationStore),
    )
    chat_model = providers.Resource(resources.chat_model, plugins=plugins, config=config)
    policy = providers.Callable(lambda settings: settings.policy(), settings)

    conversations = providers.Singleton(
        ConversationService, store=store, chat=chat_model, tokens=token_counter, policy=policy
    )
    identity = providers.Singleton(SeedIdentity)


def build_container(settings: Settings | None = None) -> Container:
    """A container for ``settings`` (by default, loaded from file and environment)."""
    return Container(settings=settings or Settings.load())
