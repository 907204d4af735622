"""Embedding botgpt in another Python application, without HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import attrs
from dependency_injector import providers

from botgpt.domain.conversations import ConversationService
from botgpt.domain.documents import DocumentService
from botgpt.domain.history import ConversationHistory
from botgpt.domain.keys import KeyService
from botgpt.domain.retrieval import RetrievalService
from botgpt.domain.transfer import ConversationTransfer
from botgpt.domain.usage import UsageService
from botgpt.entrypoints.container import Container, build_container
from botgpt.entrypoints.resources import resolved
from botgpt.entrypoints.settings import Settings


@attrs.frozen
class Core:
    """The use cases of a running botgpt, ready to call.

    - ``conversations``: start, continue, branch from an earlier message, and regenerate turns.
    - ``history``: list, read, rename and delete conversations; siblings and branch switching.
    - ``transfer``: export a conversation's whole tree, and import one.
    - ``documents``: upload, read (ingestion status), list and delete documents.
    - ``search``: ranked passages of a user's ready documents, without the model.
    - ``keys`` and ``usage``: API keys, and token usage per user and conversation.
    """

    conversations: ConversationService
    history: ConversationHistory
    transfer: ConversationTransfer
    documents: DocumentService
    search: RetrievalService
    keys: KeyService
    usage: UsageService


async def provided(provider: Any) -> Any:
    """The value of a provider whose dependencies may be async resources."""
    return await resolved(provider())


async def start_resources(container: Container) -> None:
    """Start the container's async resources (stores, models)."""
    pending = container.init_resources()
    if pending is not None:
        await pending


async def stop_resources(container: Container) -> None:
    """Stop the container's async resources, each one only after every resource that uses it.

    dependency-injector orders shutdown by direct references only, so the database, which
    summary memory and the ingestion workers reach through their stores, closed while their
    background work was still writing ("Cannot operate on a closed database"). Ordering by
    every resource reachable through the providers lets background work finish first.
    """
    resources = list(container.traverse(types=[providers.Resource]))
    users = {id(used): [user for user in resources if used in _resources_under(user)] for used in resources}
    failures: list[BaseException] = []
    while live := [resource for resource in resources if resource.initialized]:
        # A resource that no live resource uses can stop now; a cycle (none is free) stops all at once.
        free = [resource for resource in live if not any(user.initialized for user in users[id(resource)])] or live
        outcomes = await asyncio.gather(*(resolved(resource.shutdown()) for resource in free), return_exceptions=True)
        failures.extend(outcome for outcome in outcomes if isinstance(outcome, BaseException))
    if failures:
        raise failures[0]


def _resources_under(resource: providers.Provider[Any]) -> list[providers.Provider[Any]]:
    return [other for other in resource.traverse(types=[providers.Resource]) if other is not resource]


@asynccontextmanager
async def open_core(settings: Settings | None = None) -> AsyncIterator[Core]:
    """Start botgpt's stores and models for ``settings`` and stop them on exit.

    ``settings`` defaults to the file and environment configuration, as for the server.
    """
    container = build_container(settings)
    await start_resources(container)
    try:
        yield Core(
            conversations=await provided(container.conversations),
            history=await provided(container.history),
            transfer=await provided(container.transfer),
            documents=await provided(container.documents),
            search=await provided(container.retrieval),
            keys=await provided(container.keys),
            usage=await provided(container.usage),
        )
    finally:
        await stop_resources(container)
