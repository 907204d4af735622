"""Ports for the retrieval pipeline: extraction, chunking, embedding, retrieval."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from botgpt.domain.model import ChunkSpan, ScoredChunk, SearchScope, Vector


class TextExtractor(Protocol):
    """Turns a stored file of one type into text, streamed in segments."""

    @property
    def extensions(self) -> tuple[str, ...]:
        """File name endings this extractor reads, e.g. ``(".txt",)``."""
        ...

    def sniff(self, head: bytes) -> bool:
        """Whether the first bytes of a file look like this type."""
        ...

    def check(self, path: str) -> None:
        """Quickly confirm the whole file is readable; raise ``UnreadableDocument`` if not."""
        ...

    def extract(self, path: str) -> Iterator[str]:
        """The file's text, in order, in segments of bounded size. Raises ``UnreadableDocument``."""
        ...


class Chunker(Protocol):
    """Splits text into spans. Pure and deterministic; spans cover the text in order."""

    @property
    def name(self) -> str:
        """The chunker's registered name."""
        ...

    @property
    def max_chars(self) -> int:
        """No span is longer than this."""
        ...

    def chunk(self, text: str) -> list[ChunkSpan]:
        """Spans of ``text`` with offsets into it; each ``text[start:end] == span.text``."""
        ...


class Embedder(Protocol):
    """Turns texts into vectors. ``name`` and ``dimension`` identify its vector space."""

    @property
    def name(self) -> str:
        """A name that changes whenever vectors stop being comparable."""
        ...

    @property
    def dimension(self) -> int:
        """Length of every vector."""
        ...

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        """One vector per text, in order. Raises ``EmbedderError``."""
        ...


class QueryEmbedder(Embedder, Protocol):
    """An embedder that encodes search queries unlike passages (E5 and BGE use prefixes).

    Retrievers embed queries with ``embed_queries`` when the embedder has it, else ``embed``.
    """

    async def embed_queries(self, texts: Sequence[str]) -> list[Vector]:
        """One vector per query, in order. Raises ``EmbedderError``."""
        ...


class WindowedEmbedder(Embedder, Protocol):
    """An embedder that reads a text only up to a window of its own tokens (BERT-style models
    cut the rest off silently). Callers that must not lose text check lengths against it."""

    @property
    def max_input_tokens(self) -> int:
        """The most tokens of its own (special tokens included) that one text may have."""
        ...

    async def input_tokens(self, texts: Sequence[str]) -> list[int]:
        """Each text's length in the embedder's own tokens, special tokens included, uncut."""
        ...


class Reranker(Protocol):
    """Reorders retrieved chunks by a finer, costlier judgement of relevance (a cross-encoder)."""

    @property
    def name(self) -> str:
        """The reranker's registered name."""
        ...

    async def rerank(self, query: str, hits: Sequence[ScoredChunk]) -> list[ScoredChunk]:
        """The same chunks, best first, each with its new score; ``ranks`` gains this stage's rank."""
        ...


class Retriever(Protocol):
    """Ranks the chunks in a scope for a query, usually through the ``ChunkIndex``."""

    @property
    def name(self) -> str:
        """The retriever's registered name."""
        ...

    async def search(self, query: str, scope: SearchScope, k: int) -> list[ScoredChunk]:
        """The best ``k`` chunks in ``scope`` for ``query``, best first."""
        ...
