"""Documents: uploaded files, their chunks and vectors, and ingestion jobs."""

from __future__ import annotations

import array
import enum
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from botgpt.domain.model.collections import AttributeValue


class DocumentStatus(enum.StrEnum):
    """Where a document is in ingestion."""

    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


@attrs.frozen
class Document:
    """An uploaded file and its ingestion state. ``is_vectorized`` is the seed's name for ready."""

    id: str
    user_id: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    status: DocumentStatus
    created_at: datetime
    updated_at: datetime
    chunks_total: int = 0
    chunks_embedded: int = 0
    error: str | None = None
    embedder: str | None = None
    attributes: dict[str, AttributeValue] = attrs.field(factory=dict, hash=False)

    @property
    def is_vectorized(self) -> bool:
        return self.status is DocumentStatus.READY


@attrs.frozen
class ChunkSpan:
    """A chunker's output: text and its character offsets in the document's text."""

    start: int
    end: int
    text: str


# A vector is a compact float32 array; adapters view it with numpy without copying.
if TYPE_CHECKING:
    Vector = array.array[float]
else:
    Vector = array.array


@attrs.frozen
class Chunk:
    """A passage of a document, with the embedding of its text."""

    id: str
    document_id: str
    ordinal: int
    start: int
    end: int
    text: str
    vector: Vector = attrs.field(eq=False, repr=False, factory=lambda: array.array("f"))


@attrs.frozen
class ScoredChunk:
    """A retrieved chunk, its fused score, and its rank in each retriever that found it."""

    chunk: Chunk
    score: float
    ranks: tuple[tuple[str, int], ...] = ()


@attrs.frozen
class SearchScope:
    """Which chunks a search may rank: a user's ready documents embedded by one embedder,
    narrowed to ``document_ids`` when given (``None`` means all of them)."""

    user_id: str
    embedder: str
    document_ids: frozenset[str] | None = None

    @property
    def is_empty(self) -> bool:
        return self.document_ids is not None and not self.document_ids


@attrs.frozen
class ScopeRequest:
    """What a caller asks to search: the named documents and the collections' documents (all
    the user's ready documents when neither is given), narrowed by an attribute filter."""

    document_ids: tuple[str, ...] = ()
    collection_ids: tuple[str, ...] = ()
    filters: Mapping[str, Any] | None = attrs.field(default=None, hash=False)

    @property
    def names_sources(self) -> bool:
        return bool(self.document_ids or self.collection_ids)


@attrs.frozen
class IngestionJob:
    """A claimed unit of ingestion work: one document, leased to one worker until a time."""

    document_id: str
    worker: str
    lease_until: datetime
    attempts: int


@attrs.frozen
class JobCounts:
    """The ingestion queue at one moment: jobs waiting for a worker, running under a live
    lease, and expired (the lease ran out: the worker died or hangs, and the next claim takes
    the job over), and when the oldest job of them all was queued (None when there is none)."""

    queued: int = 0
    running: int = 0
    expired: int = 0
    oldest_queued_at: datetime | None = None
