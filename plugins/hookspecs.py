"""The hooks a botgpt plugin can implement.

Hooks only register factories at start-up: pluggy is synchronous, so a hook never does
I/O. The objects the factories build do the real, asynchronous work.

A factory receives the whole flat configuration (keys as in the README's table), except a
retriever factory, which receives a ``RetrieverContext`` (the configuration, the document
store, the embedder, and a way to build other registered retrievers). If a built object has
async ``load()`` / ``close()`` methods, the host awaits them when the server starts and stops.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import pluggy

from botgpt.ports.ai import Chunker, Embedder, Retriever, TextExtractor
from botgpt.ports.chat import ChatModel
from botgpt.ports.documents import DocumentStore

PROJECT = "botgpt"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Config = Mapping[str, Any]


@attrs.frozen
class RetrieverContext:
    """What a retriever factory may use."""

    config: Config
    store: DocumentStore
    embedder: Embedder
    build: Callable[[str], Retriever]


ChatModelFactory = Callable[[Config], ChatModel]
EmbedderFactory = Callable[[Config], Embedder]
ChunkerFactory = Callable[[Config], Chunker]
RetrieverFactory = Callable[[RetrieverContext], Retriever]

RegisterChatModel = Callable[[str, ChatModelFactory], None]
RegisterEmbedder = Callable[[str, EmbedderFactory], None]
RegisterChunker = Callable[[str, ChunkerFactory], None]
RegisterRetriever = Callable[[str, RetrieverFactory], None]
RegisterExtractor = Callable[[TextExtractor], None]


@hookspec
def register_chat_models(register: RegisterChatModel) -> None:
    """Register chat model factories: ``register("provider-name", factory)``."""


@hookspec
def register_embedders(register: RegisterEmbedder) -> None:
    """Register embedder factories: ``register("name", factory)``."""


@hookspec
def register_chunkers(register: RegisterChunker) -> None:
    """Register chunker factories: ``register("name", factory)``."""


@hookspec
def register_retrievers(register: RegisterRetriever) -> None:
    """Register retriever factories: ``register("name", factory)``."""


@hookspec
def register_extractors(register: RegisterExtractor) -> None:
    """Register text extractors: ``register(extractor)``; each claims its file extensions."""
