"""A third-party chunker plugin: one chunk per paragraph (split at blank lines)."""

from __future__ import annotations

import re

import attrs

from botgpt.domain.model import ChunkSpan
from botgpt.plugins.hookspecs import RegisterChunker, hookimpl

_BLANK_LINES = re.compile(r"\n\s*\n")


@attrs.frozen
class ParagraphChunker:
    max_chars: int = 2000
    name: str = "paragraphs"

    def chunk(self, text: str) -> list[ChunkSpan]:
        spans: list[ChunkSpan] = []
        start = 0
        for boundary in [*(m.start() for m in _BLANK_LINES.finditer(text)), len(text)]:
            self._add(text, start, boundary, spans)
            start = boundary
        return spans

    def _add(self, text: str, start: int, end: int, spans: list[ChunkSpan]) -> None:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        for piece_start in range(start, end, self.max_chars):
            piece_end = min(end, piece_start + self.max_chars)
            if text[piece_start:piece_end].strip():
                s, e = piece_start, piece_end
                while text[s].isspace():
                    s += 1
                while text[e - 1].isspace():
                    e -= 1
                spans.append(ChunkSpan(s, e, text[s:e]))


@hookimpl
def register_chunkers(register: RegisterChunker) -> None:
    register("paragraphs", lambda config: ParagraphChunker())
