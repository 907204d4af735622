"""Chunking a document of any size in bounded memory."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from botgpt.domain.model import ChunkSpan
from botgpt.ports.ai import Chunker

WINDOW_CHARS = 1 << 16


def chunk_id(document_id: str, ordinal: int) -> str:
    """A chunk's id, derived from its place: re-ingesting yields the same ids."""
    return hashlib.sha256(f"{document_id}:{ordinal}".encode()).hexdigest()[:32]


def stream_chunks(segments: Iterable[str], chunker: Chunker, window_chars: int = WINDOW_CHARS) -> Iterator[ChunkSpan]:
    """Chunk a stream of text segments, holding about one window of text at a time.

    Each full window is chunked, and its last span (which may end at the window's edge
    rather than at a natural break) is carried into the next window and chunked again.
    Offsets are relative to the whole text.
    """
    buffer, base = "", 0
    for segment in segments:
        buffer += segment
        if len(buffer) < window_chars:
            continue
        spans = chunker.chunk(buffer)
        if not spans:  # nothing but blanks so far: nothing to keep
            buffer, base = "", base + len(buffer)
            continue
        if len(spans) == 1:
            continue  # no break inside the window yet: read on
        carried_from = spans[-1].start
        yield from (_shift(span, base) for span in spans[:-1])
        buffer, base = buffer[carried_from:], base + carried_from
    yield from (_shift(span, base) for span in chunker.chunk(buffer))


def _shift(span: ChunkSpan, base: int) -> ChunkSpan:
    return ChunkSpan(start=span.start + base, end=span.end + base, text=span.text)
