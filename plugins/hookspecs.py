"""The hooks a botgpt plugin can implement.

Hooks only register factories at start-up: pluggy is synchronous, so a hook never does
I/O. The objects the factories build do the real, asynchronous work.

Every factory receives one ``PluginContext``: the flat configuration (keys as in the README's
table) and the host's services. If a built object has async ``load()`` / ``close()`` methods,
the host awaits them when the server starts and stops.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import pluggy

from botgpt.ports.ai import Chunker, Embedder, Reranker, Retriever, TextExtractor
from botgpt.ports.chat import ChatModel
from botgpt.ports.documents import DocumentStore
from botgpt.ports.index import ChunkIndex
from botgpt.ports.telemetry import NO_METRICS, NO_TRACER, Metrics, Tracer

PROJECT = "botgpt"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Config = Mapping[str, Any]
T = TypeVar("T")


class PluginUnavailable(LookupError):
    """A factory asked for a service the host does not give to that kind of factory."""


@attrs.frozen
class PluginContext:
    """What every factory receives.

    ``config`` is the flat configuration. The services exist only once the host has built
    them, so only retriever factories may ask for ``index``, ``store``, ``embedder`` and
    ``retriever`` (chat models, embedders and chunkers are built first, from configuration alone).
    ``metrics`` and ``tracer`` are the host's telemetry, for every factory: what a built object
    reports there (retries, spans) joins the server's own metrics and traces.
    """

    config: Config
    _store: DocumentStore | None = None
    _embedder: Embedder | None = None
    _retrievers: Callable[[str], Retriever] | None = None
    _index: ChunkIndex | None = None
    metrics: Metrics = NO_METRICS
    tracer: Tracer = NO_TRACER

    @property
    def index(self) -> ChunkIndex:
        """The chunk index: the vectors and lexical index of every ready document."""
        return _given(self._index, "the chunk index")

    @property
    def store(self) -> DocumentStore:
        """The document store: documents, and their chunks as stored at ingestion."""
        return _given(self._store, "the document store")

    @property
    def embedder(self) -> Embedder:
        """The configured embedder, for embedding queries."""
        return _given(self._embedder, "the embedder")

    def retriever(self, name: str) -> Retriever:
        """Another registered retriever, for composite strategies."""
        return _given(self._retrievers, "other retrievers")(name)


def _given(service: T | None, what: str) -> T:
    if service is None:
        raise PluginUnavailable(f"{what} is given to retriever factories only")
    return service


ChatModelFactory = Callable[[PluginContext], ChatModel]
EmbedderFactory = Callable[[PluginContext], Embedder]
ChunkerFactory = Callable[[PluginContext], Chunker]
RetrieverFactory = Callable[[PluginContext], Retriever]
RerankerFactory = Callable[[PluginContext], Reranker]

RegisterChatModel = Callable[[str, ChatModelFactory], None]
RegisterEmbedder = Callable[[str, EmbedderFactory], None]
RegisterChunker = Callable[[str, ChunkerFactory], None]
RegisterRetriever = Callable[[str, RetrieverFactory], None]
RegisterReranker = Callable[[str, RerankerFactory], None]
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
def register_rerankers(register: RegisterReranker) -> None:
    """Register reranker factories: ``register("name", factory)``; ``BOTGPT_RERANKER`` picks one."""


@hookspec
def register_extractors(register: RegisterExtractor) -> None:
    """Register text extractors: ``register(extractor)``; each claims its file extensions."""
